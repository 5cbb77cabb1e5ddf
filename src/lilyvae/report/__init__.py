"""What a trained model says: embeddings, held-out evaluation, figures and the HTML report."""
