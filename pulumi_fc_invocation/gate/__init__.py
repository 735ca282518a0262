"""The gate core: read an async work item (or a batch of them), wait until it ends, judge it, and turn
it into outputs. Written once, used by every front end (the Pulumi data sources, the plugin, the CLI)."""
