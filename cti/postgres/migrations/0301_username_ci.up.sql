-- Usernames are unique without case: "ADMIN" cannot be created next to
-- "admin", and logins find the user whatever case is typed.
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
