"""Training tab (key 1): one live panel per model, in the workspace or in the folder of the run it follows."""
