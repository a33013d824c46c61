"""The bottom layer: user-facing errors, stable ids, the study configuration and the value types every stage
shares. It imports nothing of this project, so every package above may import it."""
