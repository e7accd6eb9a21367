"""Backprop tab (key 3): the assignment's graph, stepped forward then backward edge by edge."""
