"""The gate core: read an async work item (or a batch of them), wait until it ends, judge it, and turn
it into outputs. Written once, used by every front end (the Pulumi data sources, the plugin, the CLI).

Rooms, in the order of the flow: ``spec`` (the validated arguments), ``batch`` (a batch's listing,
state and cheap poll), ``gates`` (one gate per shape: how to read, poll, judge and what to say),
``run`` (the wait and the flow), ``verdict`` (the conditions: done? passed?), ``outputs`` (what is
recorded); beside them ``messages`` (the sentences), ``reporting`` (the Reporter each front end
brings), ``clients`` (what a process's gates share) and ``operation`` (whether a gate may wait and
judge). Imports no Pulumi module.
"""
