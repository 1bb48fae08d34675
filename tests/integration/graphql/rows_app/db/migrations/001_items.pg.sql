CREATE TABLE owners (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE items (id bigint PRIMARY KEY, n bigint, f double precision, t text, b boolean, j jsonb, owner_id bigint);
INSERT INTO owners VALUES (1, 'one'), (2, 'two'), (3, 'three');
INSERT INTO items VALUES
  (1, 7, 1.5, 'seven', true, '{"k":[1,"x"]}', 1),
  (2, NULL, NULL, NULL, NULL, NULL, 2),
  (3, -3, 0.25, 'quote " backslash \ ünï', false, '[]', 99),
  (4, 2147483648, -2.0, '', false, 'null', 1),
  (5, 0, 3.0, '12', true, '"s"', NULL);
