// Package resolve is entity resolution over the silos (一网统管: one person,
// one building, one problem, whichever system a record came from): the
// records of different source systems that name the same person, the
// building a source address names, and the case reports of one problem
// (incidents). For persons it works on the person fields of
// source records as the connectors normalise them — keyed hashes of the
// validated citizen ID and of the phone, the name in clear (compared only
// inside the process), birth date and gender, the standardised dwelling —
// and never on raw IDs or phones.
//
// # Method
//
// Deterministic links first: records with the same keyed ID hash are one
// person. Then probabilistic matching (Fellegi–Sunter, in the manner of
// Splink) over the rest:
//
//   - Blocking. Two records are compared only when they share a blocking
//     key: the phone hash; birth date and surname; the name's pinyin and
//     the dwelling; the name's pinyin and the birth year. Blocks larger than
//     MaxBlock records are skipped (a shared phone of a call centre).
//   - Comparison levels. Name: EXACT after folding (spaces dropped,
//     traditional characters converted to simplified with OpenCC's t2s
//     tables), PINYIN (the same toneless reading, go-pinyin: a homophone
//     typed for the right character), else DIFFERENT. Birth date: EXACT,
//     SAME_YEAR, DIFFERENT. Gender, dwelling: SAME, DIFFERENT. Phone:
//     SAME, HOUSEHOLD (the other's phone is known at this record's
//     dwelling: a housemate's, weighs nothing), DIFFERENT. A record
//     without a dwelling takes the one its phone is known at, when that is
//     a single one. A field missing on either side is MISSING and weighs
//     nothing.
//   - Weights. For each field and level, m = P(level | same person) is
//     estimated from the deterministic links (pairs of records that share a
//     valid ID: the data labels itself), u = P(level | different persons)
//     from a fixed sample of record pairs; the name's EXACT and PINYIN
//     levels use the value's own frequency as u (term-frequency
//     adjustment: 王伟 agreeing says less than 司马懿 agreeing). Both are
//     smoothed (add-one). The weight of a level is log2(m/u); the total
//     of a pair is the prior log-odds log2(λ/(1−λ)) plus the weights of its
//     fields, where λ is the share of all record pairs the deterministic
//     links make true.
//   - Rules that no weight overrides: two different valid ID hashes are
//     never one person; a pair whose names are DIFFERENT is never linked
//     (family members share a phone and a dwelling, never a name).
//   - Outcomes. A pair whose total reaches Config.Upper (2 bits) is a
//     link; between Config.Lower (−2 bits) and Config.Upper it goes to the
//     review queue; below, no link. Links are applied strongest first
//     (ties by record key), each only if the two clusters it joins hold no
//     two different ID hashes and no rejected pair. A record without an ID
//     whose two best candidates belong to two different valid IDs within
//     Config.Margin (4 bits) of each other is ambiguous (two people of one
//     name in one household): its pairs go to review. The prior is taken
//     over all record pairs, so totals are conservative; the thresholds
//     are those at which the simulated cities meet their targets at every
//     scale (docs/resolution.md).
//   - Review decisions. An accepted pair is linked before anything else
//     (still never across two valid IDs); a rejected pair is never in one
//     cluster, whatever its weight. Decisions name records by their keys,
//     so they hold across re-resolution and re-sync.
//
// Resolution is a pure function of the set of records and the decisions:
// records are sorted by key first, so the answer does not depend on the
// order they arrive in. Each cluster gets a golden record, field by field
// from the most trusted source, then the most recent record, with the
// record each value came from (Golden). PersonPlan keeps global person IDs
// stable across resolutions: a cluster with a valid ID is that ID's
// person; another keeps the person most of its records stand for, and the
// other persons of its records are merged into it (their IDs keep naming
// it); a part that a split (a rejected link) leaves without a person gets
// a new one, split from the person it was part of.
//
// # Incremental resolution
//
// Persons holds a resolution between sync passes and Update resolves what
// changed. The pair graph — scored pairs from Config.Lower whose names are
// not DIFFERENT, records sharing a valid ID hash, decided pairs — falls
// into parts that clustering never crosses (every join, the review band
// and the ambiguity rule look only at a record's own pairs). A changed
// record is blocked and scored again; the records of its old pairs and
// old cluster, the records whose derived values its phone changes (a
// dwelling inferred from the phone, a housemate's phone), and the
// records of a changed decision are the seeds; the parts holding the
// seeds are clustered again with the held model, and nothing else can
// change. Update answers only the clusters among them that changed (in
// membership, or holding a record changed, scored again or decided on),
// and gives the evidence as a change to what it reported before: the
// pairs new, scored again or of another outcome (Result.Fresh) and those
// that no longer stand (Result.Gone). TestUpdateAnswersOnlyWhatChanged
// checks, over added, changed and removed records and new decisions,
// that the clusters Update answers, and the evidence its changes build,
// are those a clustering of everything gives. The model and the
// weights of untouched pairs stay those of the last full resolution;
// PersonResolver resolves everything again when the records held have
// doubled or halved since, and a full resolution (`hub sync`) gives the
// answer the increments converge to.
//
// Records alike — the same valid ID hash, source and compared fields, as
// a grid worker's reports each name the worker — are one record to
// resolution: PersonResolver folds them into the one of the smallest key,
// with their latest timestamp and the others as Record.Copies, which weigh
// as records in the name frequencies, the block sizes and the model (its
// m and prior are those of the records unfolded; TestCopiesResolveAsTheirRecords)
// and stand where it stands. A new report of a worker then changes one
// record of a small cluster, not a cluster of hundreds. A record a
// decision names is never folded. The evidence names the folded record:
// a record without an ID compared with a worker's reports is one pair,
// not one per report. A record changed in its timestamp alone (or in
// copies added to copies), its twins standing where they stood, is not
// answered unless the new time moves a field of its cluster's golden
// record to another record.
//
// PersonResolver runs it against the store: the store queues each person
// record whose compared fields change (person_resolve_queue, filled by
// triggers on person_link and on party members' home links), a run takes
// the queue, reads those records, writes the persons of the clusters that
// changed and the change to the evidence, and removes from the queue
// exactly the changes it read. Where the other records of those clusters
// stand (their person, how they were matched) it holds from the runs
// before: only the sync engine, on a change it queues, and resolution
// write a record's person.
//
// # Incidents
//
// Incidents groups case reports of every source (and repeats within one)
// that are one real-world problem. Two reports are compared only within
// IncidentConfig.MaxMetres (150 m, WGS-84 after datum conversion) and
// Window (7 days), when their unified categories are compatible (the
// same, one the ancestor of the other, or a pair the two taxonomies name
// differently: Compatible), and never when they are two components (部件)
// with different component IDs. Evidence, in bits: place ≤ 30 m +6, ≤ 80 m
// +4.5, farther −4; time ≤ 2 h +4, ≤ 1 day +2.5, ≤ 3 days +1.5, later −3;
// category the same +3, compatible +2; text (Sørensen–Dice of character
// bigrams, the unit of similarity for Chinese) ≥ 0.5 +3, ≥ 0.2 +1, else
// −0.5; the same component +4. Pairs from Threshold (8 bits) are linked
// strongest first, unless the incidents joined would hold two component
// IDs or span more than Window. An incident is a link, never a deletion:
// RegroupIncidents writes the grouping to the store's incident table and
// each case's incident_id, keeping incident IDs stable. After sync passes,
// IncidentRegrouper holds the recent located cases between runs and reads
// only the cases the store queued since the last run
// (incident_regroup_queue, filled by triggers on "case"), regrouping from
// the earliest report among them and among the cases of the incidents
// they left.
//
// # Other writers
//
// PersonResolver and IncidentRegrouper hold what they resolved between
// runs, which is the store's only while no other writer resolves (a `hub
// sync` beside a server, another replica). The store keeps an epoch per
// kind of resolution (store.ResolutionKind), checked and advanced by the
// write that takes the queue: a resolver that reads an epoch other than
// the one it last wrote resolves everything, and a write from a state
// another writer moved on from fails with store.ErrStaleResolution, is
// rolled back, and is replaced by a full run. Until a kind's first
// resolution no resolver holds anything and the queues name nothing: a
// full run calls store.Store.BeginResolution before it reads, which moves
// the epoch from 0 once the writers that left their changes unqueued have
// committed. RegroupIncidents, which holds
// nothing, leaves the epoch: it rewrites only incidents and the cases'
// links to them, which IncidentRegrouper reads again from the store when
// it writes; the decision it regroups for queues its two cases
// (store.RecordMatchDecision), so the regrouper that holds the recent
// cases regroups them too, incrementally.
//
// # Buildings
//
// Building resolves a source address to a building with the address
// service (package address): the text as written first, then, when that
// finds no building, with the regions the text leaves out taken from the
// source record (a governance house's grid; a party member's home from the
// house of the resident the member is by ID hash). The hint never
// overrides a region the text names, so it cannot move an address to
// another community.
//
// Measured against the simulated city's ground truth (sim/city
// PersonMentions and CaseMentions) in resolve_test.go and
// incident_test.go; the figures per scale are in docs/resolution.md.
package resolve
