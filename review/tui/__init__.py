"""`raazdar-review tui`: the inbox, a report's view, triage keys, notes, links and replies.

The screens call the same `review.*` functions as the command line, so the
workflow's rules and the audit log are the same whichever one a reviewer uses.
"""
