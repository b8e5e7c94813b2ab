"""Files: `serialization` (tn.save / tn.load, .npz without pickle) and `modelfile` (a model's
weights plus the JSON description that rebuilds it)."""
