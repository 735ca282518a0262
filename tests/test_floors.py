"""The dependency floors in pyproject.toml never drop below what the package uses. The full proof (the
suite on exactly the floor versions) is ``python3 tools/check_floors.py``; this is its cheap guard."""

from importlib.metadata import version

from check_floors import floors

# What needs each floor: found by running the suite on older versions (tools/check_floors.py).
NEEDED = {
    "urllib3": ("2.2", "HTTPResponse.read1, which the client reads bodies with (2.0.7/2.1.0: AttributeError)"),
    "requests": ("2.33.1", "header values ending in a line break refused as InvalidHeader (2.33.0: a bare "
                           "ValueError from http.client)"),
    "pulumi": ("3.271", "ReadResourceResponse.id, which the testing harness answers reads with"),
    "pydantic": ("2.5", "the models' validators and AliasChoices"),
    "click": ("8.1", "the CLI"),
}


def _key(text):
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def test_every_floor_covers_what_the_package_needs():
    declared = floors()
    assert set(declared) == set(NEEDED)
    for name, (needed, why) in NEEDED.items():
        assert _key(declared[name]) >= _key(needed), f"{name}>={declared[name]} is too low: {why}"
        assert _key(version(name)) >= _key(declared[name])  # and this environment honours it


def test_the_urllib3_floor_has_read1():
    from urllib3.response import HTTPResponse

    assert callable(getattr(HTTPResponse, "read1", None))
