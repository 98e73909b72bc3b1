"""Alerting application services: the scheduled evaluation run (`service.run_evaluation`), delivery
behind the notify entry point (`delivery.deliver`), backtests, and the documents alerting keeps in the
store (`repo`). May import `vigil.domain`, `vigil.ports` and `vigil.config`; adapters only lazily
where a default must be built (SNS client, notifiers)."""
