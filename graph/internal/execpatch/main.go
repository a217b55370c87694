// Command execpatch adjusts the executor gqlgen generates; go generate runs
// it right after gqlgen (see server.go).
//
// gqlgen's generated code pays for @defer support in every object it
// resolves, for operations that almost never defer anything: it builds a
// DeferredGroup, rebuilding the object's response path, and writes the
// object through a FieldSet that keeps a map of the names written (to skip
// a deferred field's second entry). Together that is a quarter of the
// allocations and of the bytes of a page of a thousand cases with nested
// objects (BenchmarkLargeQuery in graph, which runs both paths in one
// binary; TestExecutorMatchesUpstream requires the same bytes from both
// over a corpus of queries). execpatch routes both through
// graph/generated/deferred.go: newDeferredGroup builds the group only when
// the operation may defer, and objectValue writes the fields of an object
// of an operation that cannot defer in order, without the map. Both are
// methods of the executionContext, which gqlgen makes once per operation
// and execpatch gives a field of per-operation state (operationState):
// whether the operation may defer is looked at once, not for every object;
// the objects, their field sets and the fields' contexts are taken from
// slabs, and a field context's Child function is made once per type and
// operation (fieldContextChild), not as a closure per field; and each
// object's fields are collected
// through a map keyed by the identity of its selection and type
// (collectFields), where gqlgen's CollectFields hashes the type's names
// into its cache key for every object.
//
// Leaf fields (a scalar or an enum) read from the object itself (a field
// or a method without context and error: Case.title, Case.id, LatLng.lat)
// are most of the fields of a large answer, and gqlgen resolves each
// through graphql.ResolveField: a FieldContext, a context holding it and
// closures, for a value that cannot fail. execpatch gives each of them a
// fast path that marshals the value directly, when leafInline allows it
// (graph/generated/inline.go): under a list marshalled in place and for a
// field without directives of its own.
//
// Fields to one object read from the object itself (CaseEdge.node,
// Case.location, Case.provenance) get a fast path too, when objectInline
// allows it (the field's type asks no more access than the type it is
// on): the object is marshalled under the field's own context, so that
// paths of errors below it stay right, without the rest of ResolveField
// (the field middleware, its closures and the recovery). So are those
// with a resolver without arguments (Case.category, Region.parent),
// through inlineResolved, which leaves a failure to ResolveField. Both
// are taken only under a list marshalled in place, where no field
// selected waits on I/O.
//
// The generated marshallers of scalars and enums call the executor's
// (graph/generated/leaves.go) in place of graphql.MarshalString and its
// kin, which return a closure per value: the value is kept in an element
// of the operation's slabs and written as gqlgen writes it.
//
// A query's answer is written through graph/generated/response.go
// (marshalData), into a pooled buffer copied out at its exact size, instead
// of a buffer that grows by doubling for every answer.
//
// It also routes gqlgen's concurrent list marshalling and field resolution
// through graph/generated/inline.go (marshalSlice, resolveFieldOf), which
// marshal a list in place when nothing selected under it can wait on I/O
// (a field is given as a method expression, with its object: a closure is
// made only for a field resolved on another goroutine),
// and writes graph/generated/concurrency.go, the table of the fields
// resolved concurrently that inline.go reads (concurrentFields): a file of
// its own, so that the package compiles before the patch too, as gqlgen
// requires when it checks what it generated. It fails, rather than
// silently doing nothing, when the generated code no longer has what it
// rewrites.
//
//	go run ./graph/internal/execpatch graph/generated/generated.go
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// rewrites are the calls replaced, each with its replacement (and, where
// a later step rewrites the replacement again, done: what that step
// writes, so that the patch can run twice).
var rewrites = []struct{ from, to, done string }{
	{"type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n}",
		"type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n\top operationState // added by execpatch: see deferred.go\n}\n\n" +
			"// operationState is the operation's state (added by execpatch: see deferred.go).\n" +
			"func (ec *executionContext) operationState() *operationState { return &ec.op }", ""},
	{"deferred := graphql.NewDeferredGroup(ctx)", "deferred := ec.newDeferredGroup(ctx)", ""},
	{"fields := graphql.CollectFields(ec.OperationContext, sel, ", "fields := ec.collectFields(sel, ", ""},
	{"out := graphql.NewFieldSet(fields)\n", "out := ec.newFieldSet(fields)\n", ""},
	{"\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn out\n}", "\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn ec.objectValue(fields, out, &deferred)\n}", ""},
	{"graphql.MarshalSliceConcurrently(ctx, len(v), ", "ec.marshalSlice(ctx, sel, len(v), ", ""},
	{"out.ResolveConcurrently(ec.OperationContext, &deferred, i,", "resolveField(ctx, out, ec.OperationContext, &deferred, i,", "resolveFieldOf(ctx, ec, out, &deferred, i,"},
	{"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n", "\t\t\tresponse.Data = marshalData(data)\n", ""},
}

var (
	// closureCall is a field resolved through resolveField with a closure
	// over the generated field: whether it recovers from a panic, whether
	// it is non-null, its object type and name.
	closureCall = regexp.MustCompile(`resolveField\(ctx, out, ec\.OperationContext, &deferred, i,\s+(\w+), (\w+),\s+func\(ctx context\.Context\) graphql\.Marshaler \{\s+return ec\._([A-Za-z0-9]+)_([A-Za-z0-9_]+)\(ctx, field, obj\)\s+\}\)`)
	// concurrentCall is a field resolved through resolveFieldOf: its
	// object type and name.
	concurrentCall = regexp.MustCompile(`resolveFieldOf\(ctx, ec, out, &deferred, i, \w+, \w+, \(\*executionContext\)\._([A-Za-z0-9]+)_([A-Za-z0-9_]+), field, obj\)`)
	// batchResolver is the batch resolution of a field.
	batchResolver = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) resolveBatch_([A-Za-z0-9]+)_([A-Za-z0-9_]+)\(`)
)

// fieldTable is the Go source of concurrentFields: every field resolved
// through resolveFieldOf, true when it has a batch resolver.
func fieldTable(src []byte) ([]byte, error) {
	batch := map[string]bool{}
	for _, m := range batchResolver.FindAllSubmatch(src, -1) {
		batch[string(m[1])+"."+string(m[2])] = true
	}
	seen := map[string]bool{}
	var keys []string
	for _, m := range concurrentCall.FindAllSubmatch(src, -1) {
		k := string(m[1]) + "." + string(m[2])
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if n := bytes.Count(src, []byte("resolveFieldOf(ctx, ec, out, ")); len(keys) == 0 || n < len(keys) {
		return nil, fmt.Errorf("found %d concurrent fields in %d calls: gqlgen's generated code changed; review graph/generated/inline.go", len(keys), n)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("// Code generated by execpatch. DO NOT EDIT.\n\npackage generated\n\n" +
		"// concurrentFields are the fields the objects resolve concurrently (see\n" +
		"// inline.go), each true when its resolver is a batch resolver.\n" +
		"var concurrentFields = map[string]bool{\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "\t%q: %t,\n", k, batch[k])
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// closureFreeFields has the objects resolve their fields through
// resolveFieldOf, given the generated field as a method expression with
// the field and its object, instead of a closure over them made for every
// field of every object: resolveFieldOf makes one only for a field it
// hands to another goroutine.
func closureFreeFields(src []byte) ([]byte, error) {
	n := 0
	out := closureCall.ReplaceAllFunc(src, func(m []byte) []byte {
		n++
		g := closureCall.FindSubmatch(m)
		return []byte(fmt.Sprintf("resolveFieldOf(ctx, ec, out, &deferred, i, %s, %s, (*executionContext)._%s_%s, field, obj)", g[1], g[2], g[3], g[4]))
	})
	if left := bytes.Count(out, []byte("resolveField(ctx, out, ")); left > 0 || n == 0 && !bytes.Contains(out, []byte("resolveFieldOf(ctx, ec, out, ")) {
		return nil, fmt.Errorf("rewrote %d fields resolved through resolveField, %d left: gqlgen's generated code changed; review graph/generated/inline.go", n, left)
	}
	return out, nil
}

// resolveFieldHead is the start of a generated field that gqlgen resolves
// through graphql.ResolveField, up to the body of its resolution: the
// object and field names (twice: the resolver and its field context).
const resolveFieldHead = `(?m)^func \(ec \*executionContext\) _(\w+)_(\w+)\(ctx context\.Context, field graphql\.CollectedField, obj [^)]+\) \(ret graphql\.Marshaler\) \{
	return graphql\.ResolveField\(
		ctx,
		ec\.OperationContext,
		field,
		func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
			return ec\.fieldContext_(\w+)_(\w+)\(ctx, field\)
		\},
		func\(ctx context\.Context\) \(any, error\) \{
			`

// resolveFieldTail follows the resolution: the marshaller's parameter type
// and the marshaller.
const resolveFieldTail = `
		\},
		nil,
		func\(ctx context\.Context, selections ast\.SelectionSet, v ([^)]+)\) graphql\.Marshaler \{
			return ec\.(marshal[^(\s]+)\(ctx, selections, v\)
		\},`

// readField matches the value a field reads from its object alone (a field
// or a method without context and error).
const readField = `return (obj\.\w+(?:\(\))?), nil`

var (
	// leafField is a generated leaf field read from its object alone.
	leafField = regexp.MustCompile(resolveFieldHead + readField + resolveFieldTail + `
		(?:true|false),
		(?:true|false),
	\)
\}
func \(ec \*executionContext\) fieldContext_\w+\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{
	return graphql\.NewScalarFieldContext\(`)
	// objectField is a generated field to an object read from its object
	// alone (no resolver), matched after fieldContexts and childContexts
	// rewrote the field contexts.
	objectField = regexp.MustCompile(resolveFieldHead + readField + resolveFieldTail + `
		(?:true|false),
		(?:true|false),
	\)
\}
func \(ec \*executionContext\) fieldContext_\w+\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{
	fc = ec\.fieldContext(?:Child)?\(graphql\.FieldContext\{
		Object:     "\w+",
		Field:      field,
		IsMethod:   (?:true|false),
		IsResolver: false,
`)
	// resolvedField is a generated field with a resolver without
	// arguments, a batch one or not: its value is the resolution's call.
	resolvedField = regexp.MustCompile(resolveFieldHead + `return (ec\.resolveBatch_\w+\(ctx, field, obj\)|ec\.Resolvers\.\w+\(\)\.\w+\(ctx, obj\))` + resolveFieldTail)
)

// leafMarshaller is a generated marshaller's call of gqlgen's (or the
// hub's) marshaller of a scalar or an enum value.
var leafMarshaller = regexp.MustCompile(`\tres := (?:graphql\.Marshal(String|ID|Int64|Int|Boolean)|model\.Marshal(Time))\(`)

// leafMarshallers has the generated marshallers of scalars and enums
// call the executor's (graph/generated/leaves.go), which take the value
// from the operation's slabs rather than a closure per value.
func leafMarshallers(src []byte) ([]byte, error) {
	n := 0
	out := leafMarshaller.ReplaceAllFunc(src, func(m []byte) []byte {
		g := leafMarshaller.FindSubmatch(m)
		n++
		return []byte("\tres := ec.leaf" + string(g[1]) + string(g[2]) + "(")
	})
	if n == 0 && !bytes.Contains(src, []byte("\tres := ec.leafString(")) {
		return nil, fmt.Errorf("found no marshaller of a scalar to route through leaves.go: gqlgen's generated code changed; review graph/generated/leaves.go")
	}
	return out, nil
}

// fastPaths puts the fast path fast returns at the top of every generated
// field re matches (groups: object, field, the field context's object and
// field, the value, the marshaller's parameter type, the marshaller); an
// empty fast path leaves the field as it is. marker names a fast path
// already in place, so that the patch can run twice; finding none of
// either fails.
func fastPaths(src []byte, re *regexp.Regexp, marker, what string, fast func(object, field, value, typ, marshal string) string) ([]byte, error) {
	patched := bytes.Count(src, []byte(marker))
	n := 0
	var err error
	out := re.ReplaceAllFunc(src, func(m []byte) []byte {
		g := re.FindSubmatch(m)
		object, field := string(g[1]), string(g[2])
		if string(g[3]) != object || string(g[4]) != field {
			err = fmt.Errorf("field %s.%s has the field context of %s.%s", object, field, g[3], g[4])
			return m
		}
		f := fast(object, field, string(g[5]), string(g[6]), string(g[7]))
		if f == "" {
			return m
		}
		n++
		head := m[:bytes.IndexByte(m, '\n')+1]
		return append(append(append([]byte(nil), head...), f...), m[len(head):]...)
	})
	if err != nil {
		return nil, err
	}
	if n+patched == 0 {
		return nil, fmt.Errorf("found no %s to give a fast path: gqlgen's generated code changed; review graph/generated/inline.go", what)
	}
	return out, nil
}

// leafFastPaths gives the leaf fields that leafField finds a fast path
// (see the package comment): the value marshalled without ResolveField
// when leafInline says so; a non-null String, ID or enum held in a field of
// an object given by pointer is written from the object itself
// (graph/generated/leaves.go's stringField). A marshaller that can report an error needs the
// field's context for its path, so those are left out: a non-null one of
// a pointer (a nil is an error) or of a list; a Float's, which refuses NaN
// and infinities, takes the fast path for finite values only, written by
// leafFloat (gqlgen's marshaller wraps each in a context marshaller and
// formats it through fmt).
func leafFastPaths(src []byte) ([]byte, error) {
	objects := objectTypes(src)
	plain := plainStringMarshallers(src)
	return fastPaths(src, leafField, "\tif leafInline(ctx, field) {\n", "leaf field", func(object, field, value, typ, marshal string) string {
		nonNull := strings.HasPrefix(marshal, "marshalN")
		switch {
		case strings.HasPrefix(typ, "[]") || nonNull && strings.HasPrefix(typ, "*"):
			return ""
		case plain[marshal] && structField.MatchString(value) && strings.HasPrefix(objects[object+"."+field], "*"):
			// A string the object holds in a field: the leaf points at it.
			return fmt.Sprintf("\tif leafInline(ctx, field) {\n\t\treturn (*stringField)((*string)(&%s))\n\t}\n", value)
		case typ == "float64" && marshal == "marshalNFloat2float64":
			return fmt.Sprintf("\tif leafInline(ctx, field) {\n\t\tif v := %s; finite(v) {\n\t\t\treturn ec.leafFloat(v)\n\t\t}\n\t}\n", value)
		case typ == "*float64" && marshal == "marshalOFloat2ᚖfloat64":
			return fmt.Sprintf("\tif leafInline(ctx, field) {\n\t\tif v := %s; v == nil {\n\t\t\treturn graphql.Null\n\t\t} else if finite(*v) {\n\t\t\treturn ec.leafFloat(*v)\n\t\t}\n\t}\n", value)
		case strings.Contains(marshal, "Float"):
			return ""
		}
		return fmt.Sprintf("\tif leafInline(ctx, field) {\n\t\treturn ec.%s(ctx, field.Selections, %s)\n\t}\n", marshal, value)
	})
}

// structField is a value read from a field of the object (not a method).
var structField = regexp.MustCompile(`^obj(?:\.[A-Z]\w*)+$`)

// fieldObject is the head of a generated field: its object type and name,
// and the type of the object it is given.
var fieldObject = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _(\w+)_(\w+)\(ctx context\.Context, field graphql\.CollectedField, obj ([^)]+)\) \(ret graphql\.Marshaler\) \{`)

// objectTypes maps each generated field ("Object.field") to the Go type of
// the object it is given: a leaf may point into an object given by
// pointer only (a copy's field would escape, one allocation a value).
func objectTypes(src []byte) map[string]string {
	out := map[string]string{}
	for _, m := range fieldObject.FindAllSubmatch(src, -1) {
		out[string(m[1])+"."+string(m[2])] = string(m[3])
	}
	return out
}

// plainStringMarshaller is a generated marshaller of a non-null String, ID
// or enum that writes its value as it is (through leafString or leafID)
// and does nothing else.
var plainStringMarshaller = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (marshalN[^(\s]+)\(ctx context\.Context, sel ast\.SelectionSet, v [\w.]+\) graphql\.Marshaler \{
	_ = sel
	res := ec\.leaf(?:String|ID)\((?:string\(v\)|v)\)
	if res == graphql\.Null \{
		graphql\.AddInvalidNullFromMarshaler\(ctx, "\w+!"\)
	\}
	return res
\}`)

// plainStringMarshallers names the marshallers plainStringMarshaller
// finds (run after leafMarshallers).
func plainStringMarshallers(src []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range plainStringMarshaller.FindAllSubmatch(src, -1) {
		out[string(m[1])] = true
	}
	return out
}

// objectFastPaths gives the fields that objectField finds a fast path
// when objectInline says so: the object read is marshalled under the
// field's own context, without the rest of ResolveField (its middleware,
// closures and recovery), so that a path of an error below it is the
// field's. Lists are left to ResolveField.
func objectFastPaths(src []byte) ([]byte, error) {
	return fastPaths(src, objectField, "\tif ec.objectInline(ctx, field) {\n\t\tfc, _ := ", "object field", func(object, field, value, typ, marshal string) string {
		if strings.HasPrefix(typ, "[]") || !marshalsObject(src, marshal) {
			return ""
		}
		return fmt.Sprintf("\tif ec.objectInline(ctx, field) {\n\t\tfc, _ := ec.fieldContext_%s_%s(ctx, field)\n\t\treturn ec.%s(withFieldContext(ctx, fc), field.Selections, %s)\n\t}\n",
			object, field, marshal, value)
	})
}

// marshallerType is the GraphQL type a generated marshaller writes
// (marshalOCategory2ᚖ… writes Category).
var marshallerType = regexp.MustCompile(`^marshal[NO](\w+?)2`)

// marshalsObject tells whether a marshaller writes an object type: one
// the generated code has an object marshaller for.
func marshalsObject(src []byte, marshal string) bool {
	m := marshallerType.FindStringSubmatch(marshal)
	return m != nil && bytes.Contains(src, []byte("func (ec *executionContext) _"+m[1]+"(ctx context.Context, sel ast.SelectionSet, obj "))
}

// resolvedFastPaths gives the fields that resolvedField finds the fast
// path of objectFastPaths, through inlineResolved: the resolver runs under
// the field's own context, and a failure or a panic leaves the field to
// ResolveField, which reports it. Lists are left to ResolveField.
func resolvedFastPaths(src []byte) ([]byte, error) {
	return fastPaths(src, resolvedField, "\tif ec.objectInline(ctx, field) {\n\t\tif m, ok := inlineResolved(", "field with a resolver", func(object, field, resolve, typ, marshal string) string {
		if strings.HasPrefix(typ, "[]") || !marshalsObject(src, marshal) || !slabFieldContext(src, object, field) {
			return ""
		}
		return fmt.Sprintf("\tif ec.objectInline(ctx, field) {\n\t\tif m, ok := inlineResolved(ctx, field, ec.fieldContext_%s_%s, "+
			"func(ctx context.Context) (any, error) { return %s }, ec.%s); ok {\n\t\t\treturn m\n\t\t}\n\t}\n",
			object, field, resolve, marshal)
	})
}

// slabFieldContext tells whether a field's context comes from the
// operation's slab (fieldContexts and childContexts rewrote it), as
// withFieldContext, which the fast paths hold their contexts in, requires.
func slabFieldContext(src []byte, object, field string) bool {
	head := []byte("func (ec *executionContext) fieldContext_" + object + "_" + field + "(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {\n")
	i := bytes.Index(src, head)
	if i < 0 {
		return false
	}
	body := src[i+len(head):]
	return bytes.HasPrefix(body, []byte("\tfc = ec.fieldContext(graphql.FieldContext{")) || bytes.HasPrefix(body, []byte("\tfc = ec.fieldContextChild(graphql.FieldContext{"))
}

// childFieldContext is a field context rewritten by fieldContexts whose
// last entry is a Child closure over the type's childFields.
var childFieldContext = regexp.MustCompile(`(?s)\tfc = ec\.fieldContext\(graphql\.FieldContext\{\n((?:\t\t[^\n]*\n)*?)\t\tChild: func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.childFields_(\w+)\(ctx, field\)\n\t\t\},\n\t\}\)\n`)

// childContexts gives the field contexts of fields with a selection the
// Child function of their type, made once per operation
// (fieldContextChild), instead of a closure each.
func childContexts(src []byte) ([]byte, error) {
	n := 0
	out := childFieldContext.ReplaceAllFunc(src, func(m []byte) []byte {
		n++
		g := childFieldContext.FindSubmatch(m)
		return []byte(fmt.Sprintf("\tfc = ec.fieldContextChild(graphql.FieldContext{\n%s\t}, %q, (*executionContext).childFields_%s)\n", g[1], g[2], g[2]))
	})
	if n == 0 && !bytes.Contains(src, []byte("fc = ec.fieldContextChild(graphql.FieldContext{")) {
		return nil, fmt.Errorf("found no field context with a Child closure: gqlgen's generated code changed; review graph/generated/deferred.go")
	}
	return out, nil
}

// fieldContextLiteral is the field context a generated field builds.
var fieldContextLiteral = regexp.MustCompile(`(?s)\tfc = &graphql\.FieldContext\{\n(.*?)\n\t\}\n`)

// fieldContexts takes the field contexts of the generated fields from the
// operation's slabs (operationState.newFieldContext), one allocation each
// before.
func fieldContexts(src []byte) ([]byte, error) {
	n := 0
	out := fieldContextLiteral.ReplaceAllFunc(src, func(m []byte) []byte {
		n++
		body := fieldContextLiteral.FindSubmatch(m)[1]
		return append(append([]byte("\tfc = ec.fieldContext(graphql.FieldContext{\n"), body...), "\n\t})\n"...)
	})
	if n == 0 && !bytes.Contains(src, []byte("fc = ec.fieldContext(graphql.FieldContext{")) {
		return nil, fmt.Errorf("found no field context to take from the slabs: gqlgen's generated code changed; review graph/generated/deferred.go")
	}
	return out, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: execpatch path/to/generated.go")
		os.Exit(2)
	}
	if err := patch(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "execpatch:", err)
		os.Exit(1)
	}
}

func patch(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, r := range rewrites {
		n := bytes.Count(src, []byte(r.from))
		if n == 0 && !bytes.Contains(src, []byte(r.to)) && (r.done == "" || !bytes.Contains(src, []byte(r.done))) {
			return fmt.Errorf("%s: no %q to rewrite: gqlgen's generated code changed; review graph/generated/deferred.go", path, r.from)
		}
		src = bytes.ReplaceAll(src, []byte(r.from), []byte(r.to))
	}
	// A set from newFieldSet lacks its field list, which only its own
	// MarshalGQL reads: every object made with one must be written
	// through objectValue.
	if sets, objects := bytes.Count(src, []byte("out := ec.newFieldSet(fields)\n")), bytes.Count(src, []byte("return ec.objectValue(fields, out, &deferred)\n")); sets != objects {
		return fmt.Errorf("%s: %d objects take a field set from newFieldSet, %d are written through objectValue: gqlgen's generated code changed; review graph/generated/deferred.go", path, sets, objects)
	}
	if src, err = leafMarshallers(src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if src, err = fieldContexts(src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if src, err = childContexts(src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if src, err = leafFastPaths(src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if src, err = objectFastPaths(src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if src, err = resolvedFastPaths(src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if src, err = closureFreeFields(src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	table, err := fieldTable(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if table, err = format.Source(table); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(filepath.Dir(path), "concurrency.go"), table, 0o644)
}
