-- Person records are named by their key "source/ROLE/source_id" in match
-- decisions and in person_match; entity resolution writes links by it and
-- the API joins the evidence to the records by it.
CREATE INDEX person_link_key_idx ON person_link ((source || '/' || role || '/' || source_id));
