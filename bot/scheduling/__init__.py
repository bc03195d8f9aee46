"""APScheduler 3.11 set-up and the job functions it runs."""
