"""Machine-learned models: point-in-time feature vectors, training, the registry, fast
scoring, explanations and the cold-start anomaly score."""
