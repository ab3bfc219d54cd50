"""The ``flowexec bench`` harness: scheduling overhead against real MariaDB, Redis, worker processes
and the gateway, next to the limit this machine allows. ``profile_steps.py`` profiles one node step."""
