"""The HTTP layer: route modules, the resolver, the Lambda entry, errors and statuses.

Importing it first makes Powertools' `event_handler` package load without its eager `__init__`
(`vigil.api.lean_powertools`): every API function's cold start skips the resolvers Vigil never uses.
"""

from vigil.api import lean_powertools

lean_powertools.install()
