"""Entry point of the plugin: ``python -m pulumi_fc_invocation.plugin`` (see ``__init__.main``)."""

from pulumi_fc_invocation.plugin import main

if __name__ == "__main__":
    main()
