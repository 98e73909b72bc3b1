"""health function: public `GET|HEAD /health` for uptime checkers."""

from vigil.api.functions import HEALTH
from vigil.api.lambda_entry import lambda_handler

handler = lambda_handler("health", HEALTH)
