"""The monitor: APScheduler jobs run probe -> evaluate -> persist -> publish on the event bus."""
