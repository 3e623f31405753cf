"""aido-todo backend."""
