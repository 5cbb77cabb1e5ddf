"""The networks, the training recipes, and a trained model with its card (save, load, embed)."""
