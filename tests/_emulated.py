"""The emulated stack the data-source tests share (fixtures in conftest.py): the credentials the emulator
knows and the stack passes as config (secrets that no output may show), and an environment that hides the
machine's own credentials from the provider host."""

import random

KEY_ID = "LTAIdataSourceTestKey"
SECRET = "DataSource-Secret-Value-9f8e7d"
TOKEN = "CAIS-DataSource-Sts-Token-1a2b3c"
SECRET_KEYS = ("alicloud:secretKey", "alicloud:securityToken")
CLEAN_ENV = {name: "" for name in (
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY",
    "FC_INVOCATION_ENDPOINT", "ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN")}


def seed_history(fc, service, function, around=600.0, n=40, seed=3):
    """Past Succeeded runs of the function (durations about ``around`` s, 10% spread), all ended by now."""
    rng = random.Random(seed)
    durations = [around * rng.lognormvariate(0, 0.1) for _ in range(n)]
    start = fc.clock.now() - max(durations) - 100
    for i, duration in enumerate(durations):
        fc.add_invocation(service, function, f"past-{i}", duration=duration, started_at=start + i * 0.001)
