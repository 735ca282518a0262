"""The gates' client cache (one client per credentials, for programs whose STS token rotates): bounded,
and what it evicts is closed, yet still works for a gate that holds it."""


def test_the_client_cache_is_bounded_and_closes_what_it_evicts(fc):
    import os

    from pulumi_fc_invocation.gate import clients as provider

    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    fc.add_invocation("cache", "fn", "c-1", timeline=[("Succeeded", 0)])
    before = open_fds()
    clients = []
    for i in range(50):  # fifty rotated STS tokens
        fc.add_credentials(f"LTAIrotatingKey{i}", "rotating-secret", f"CAIS-token-{i}")
        client = provider.client_for({"alicloud:accessKey": f"LTAIrotatingKey{i}", "alicloud:secretKey": "rotating-secret",
                                      "alicloud:securityToken": f"CAIS-token-{i}", "alicloud:accountId": fc.account_id,
                                      "fc-invocation:endpoint": fc.endpoint})
        assert client.get("cache/fn/c-1").succeeded
        clients.append(client)
    assert len(provider._clients) <= provider.MAX_CACHED_CLIENTS
    # Both ends of each kept connection live in this process (the emulator is in-process): 2 per client.
    assert open_fds() - before <= 2 * provider.MAX_CACHED_CLIENTS + 6
    assert clients[0].get("cache/fn/c-1").succeeded  # an evicted client still in use keeps working
