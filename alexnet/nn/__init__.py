"""The network and its parts, as Section 3 of the paper describes them; imports only torch."""
