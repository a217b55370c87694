-- Names are masked once, in Go (pii.MaskName), when a connector normalises a
-- person; the store keeps that form in person.name_masked. The SQL copy of
-- the rule goes, so that the hub has one masking rule.
DROP FUNCTION mask_name(text);
