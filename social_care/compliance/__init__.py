"""What the platforms and the law require of the data kept: deletion checks, retention, a person's data."""
