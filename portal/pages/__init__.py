"""Pages that belong to no single capability: home pages, statements, health."""
