"""Default notice templates, shipped with the package: one folder per language."""
