"""The asynchronous client and job handle: the source of truth from which
`scripts/unasync.py` generates `amtopcon._sync`. Import them from `amtopcon`."""
