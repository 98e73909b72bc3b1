#!/usr/bin/env python3
"""CDK entry point (`npx cdk synth|deploy`, see cdk.json): builds the app from `infra.stack`.

Settings come from CDK context (`cdk.json` or `-c key=value`); see infra/settings.py and
docs/deploy.md. Infra only: nothing here is shipped to Lambda.
"""

from infra.stack import build_app

if __name__ == "__main__":
    app, _stack = build_app()
    app.synth()
