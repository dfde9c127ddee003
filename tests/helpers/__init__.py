"""Helpers shared by the test modules. Test modules import from here, never from each other."""
