"""The daily reputation digest: what happened to each brand yesterday and how well the desk answered."""
