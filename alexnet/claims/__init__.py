"""The paper's claims about its mechanisms (Sections 3.1-4.2) as experiments: designs, the runner, statistics, recorded evidence."""
