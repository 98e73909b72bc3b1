"""Vigil's AWS CDK app: one construct per concern, composed by `infra.stack.VigilStack`.

Only `app.py`, `infra/` and `tests/infra/` import this package; nothing under `vigil/` may import it
(the Lambda layer must not carry CDK).
"""
