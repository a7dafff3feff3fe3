/*
Package filter implements Okta's System Log filter language (a SCIM filter
dialect) and the q keyword search: a lexer and parser producing a tree with
byte positions, the validation rules, and Match, the reference evaluator
that every storage backend is tested against. The binding reference is
docs/filter-language.md; grammar.abnf beside this file is the grammar as
implemented. In short:

# Comparisons

A comparison is an attribute path, an operator and, except for pr, a
literal:

	eventType eq "user.session.start"
	target.id eq "00u1abc"
	client.geographicalContext.geolocation.lat gt 43.5
	securityContext.isProxy eq true
	outcome.reason pr

Paths are dot-separated names, case-sensitive, of any depth; the first name
must be a LogEvent top-level field (uuid published eventType version
severity legacyEventType displayMessage actor client device outcome target
transaction debugContext authenticationContext securityContext request).
Operators and the keywords and, or, not, true, false, null are
case-insensitive. Literals are JSON strings, JSON numbers, true, false and
null.

# Operators

	eq ne        equal, not equal (ne is exactly not eq: true when missing)
	gt ge lt le  order: strings byte-wise, numbers numerically
	co sw ew     contains, starts with, ends with (strings only)
	pr           present: some value that is neither null nor ""
	eq null      same as not pr; ne null is the same as pr

A path that meets arrays fans out over their elements at any depth, and a
comparison holds when any resolved value satisfies it. Values compare only
with literals of their own JSON type, byte-wise and case-sensitively:
"false" (a string) is not false (a boolean). published compares
chronologically at millisecond precision against an RFC 3339 literal.

# Combining

	a and b, a or b, not a, ( a )

not binds tighter than and, and tighter than or; and and or associate to
the left. not must be followed by a comparison, a parenthesis or another
not. Whitespace of any kind, newlines included, may separate tokens.

# Errors

Every refusal is an *Error holding the byte range of the offending text and
an Okta error code: E0000053 for a malformed filter or an unknown field,
E0000031 for an operator the field or literal does not support, E0000001
for a bad q. Its Error method gives Okta's errorSummary text and Caret marks
the range under the source line.

# Keywords

q is up to 10 whitespace-separated keywords of up to 40 characters; an event
matches when every keyword, lower-cased, is one of its Tokens (whole values,
their words and the hyphen-separated parts of the words, lower-cased).
*/
package filter
