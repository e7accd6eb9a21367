"""The dashboard's ground floor: what every tab shares, and nothing that belongs to one tab.

The workspace snapshot (`snapshot`), the one reader of a run at any revision (`runs`), the one
change watcher (`watch`), the dvc commands and the background jobs that outlive the dashboard
(`dvc`, `jobs`), process helpers (`process`), the one reader of params.yaml (`params`), words
several tabs say (`text`) and shared widgets (`widgets`). The contract files are read as the
typed records of mnist_dvc.core.records. No module here imports a tab; only `widgets` imports Textual.
"""
