"""Care cycles per medical condition: library, episode builder, volumes, site of care."""
