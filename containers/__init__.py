"""Container images the platform builds; each subfolder is one image's build context."""
