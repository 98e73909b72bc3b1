"""`python -m vigil.agent ...`: the same as `vigil agent ...` (see `vigil.agent.command`).

Imports: `vigil.agent.command` only.
"""

from vigil.agent.command import main

raise SystemExit(main())
