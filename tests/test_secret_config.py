"""Secret settings stay secret (issue 24, items 12 to 14).

12. A secret ``account_id`` / ``region`` input, or a secret provider setting, that breaks its rule
    (a secret read from a file ends in a newline): the error names the setting and the rule, shows
    no part of the value. Python data sources (the harness) and the plugin (gRPC).
13. The same for a secret ``endpoint`` (its messages showed ``scheme://netloc`` or 77 characters);
    the plugin's Check returns a check failure instead of failing the RPC.
14. The plugin's refresh of a batch gate keeps the secret inputs secret in state.
"""

from __future__ import annotations

import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_fc_invocation.testing import FcEmulator
from test_plugin import SECRET_SIG, configured, engine, plugin, secret, struct  # noqa: F401

URN_TASKS = "urn:pulumi:dev::proj::fc-invocation:index:AsyncTasks::hushed"


def is_secret(value) -> bool:
    return hasattr(value, "items") and SECRET_SIG in dict(value.items())


@pytest.fixture(scope="module")
def live():
    with FcEmulator(clock="real") as emulator:
        start = emulator.now() - 600
        for i in range(3):
            emulator.add_invocation(None, "calm", f"c-{i}", started_at=start + i, timeline=[("Succeeded", 1)])
        yield emulator


# --- 14: refresh ----------------------------------------------------------------------------------


def test_plugin_refresh_of_a_batch_gate_keeps_secret_inputs_secret(plugin, live):
    configured(plugin, live)
    inputs = {"functionName": "calm", "taskIdPrefix": "c-", "expectedCount": secret(3),
              "endpoint": secret(live.endpoint), "timeoutSeconds": secret(60)}
    created = plugin.Create(provider_pb2.CreateRequest(urn=URN_TASKS, properties=struct(inputs)))
    state = dict(created.properties.items())
    assert state["total"] == 3 and all(is_secret(state[key]) for key in ("expectedCount", "endpoint", "timeoutSeconds"))
    read = plugin.Read(provider_pb2.ReadRequest(id=created.id, urn=URN_TASKS, properties=created.properties,
                                                inputs=struct(inputs)))
    refreshed = dict(read.properties.items())
    assert refreshed["total"] == 3
    plain = [key for key in ("expectedCount", "endpoint", "timeoutSeconds") if not is_secret(refreshed[key])]
    assert not plain, f"written to state in plaintext by a refresh: {plain}"
