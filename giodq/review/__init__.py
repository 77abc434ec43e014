"""Review: the season's loop after a run. Reviewers decide on findings (workbook.py, in Excel),
decisions outlive runs (decisions.py, store.py), units get 整改通知 (notices.py), and reruns
close what the units corrected. Every finding has a stable id (ids.py). A run's publish calls
loop.py around its release; the inbox and the reviewer's commands publish through inbox.py."""
