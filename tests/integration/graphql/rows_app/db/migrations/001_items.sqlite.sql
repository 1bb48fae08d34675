CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER, f REAL, t TEXT, b INTEGER, j TEXT, owner_id INTEGER);
INSERT INTO owners VALUES (1, 'one'), (2, 'two'), (3, 'three');
INSERT INTO items VALUES
  (1, 7, 1.5, 'seven', 1, '{"k":[1,"x"]}', 1),
  (2, NULL, NULL, NULL, NULL, NULL, 2),
  (3, -3, 0.25, 'quote " backslash \ ünï', 0, '[]', 99),
  (4, 2147483648, -2.0, '', 0, 'null', 1),
  (5, 0, 3.0, '12', 1, '"s"', NULL);
