package filter_test

import (
	"errors"
	"fmt"

	"github.com/idlog/idlog/internal/filter"
)

func ExampleParse() {
	e, err := filter.Parse(`(actor.id EQ "00u1" or target.id eq "00u1") and
	  (eventType eq "user.session.start" or eventType eq "user.session.end")`)
	if err != nil {
		panic(err)
	}
	fmt.Println(e)
	fmt.Println(filter.Paths(e))
	// Output:
	// (actor.id eq "00u1" or target.id eq "00u1") and (eventType eq "user.session.start" or eventType eq "user.session.end")
	// [actor.id target.id eventType eventType]
}

func ExampleParse_error() {
	_, err := filter.Parse(`display_message eqq "Create okta user"`)
	var fe *filter.Error
	if errors.As(err, &fe) {
		fmt.Println(fe.Code)
		fmt.Println(fe)
		fmt.Println(fe.Caret())
	}
	// Output:
	// E0000053
	// Invalid filter 'display_message eqq "Create okta user"': Unrecognized attribute operator 'eqq' at position 16. Expected: eq,ne,co,sw,ew,pr,gt,ge,lt,le
	// display_message eqq "Create okta user"
	//                 ^^^
}

func ExampleParse_unsupported() {
	_, err := filter.Parse(`target.id co 5`)
	fmt.Println(err.(*filter.Error).Code, err)
	// Output:
	// E0000031 The supplied combination of operator and field is not currently supported. Operator: co, Field: target.id
}

func ExampleMatch() {
	doc, err := filter.DecodeJSON([]byte(`{
		"eventType": "user.session.start",
		"published": "2026-03-02T09:15:00.250Z",
		"outcome": {"result": "FAILURE", "reason": null},
		"target": [{"id": "00u1", "type": "User"}, {"id": "0oa9", "type": "AppInstance"}],
		"debugContext": {"debugData": {"threatSuspected": "false"}}
	}`))
	if err != nil {
		panic(err)
	}
	for _, f := range []string{
		`target.id eq "0oa9"`,                             // any element of an array
		`target.id ne "0oa9"`,                             // not (target.id eq "0oa9")
		`outcome.reason pr`,                               // null is not present
		`outcome.reason eq null`,                          // same as not (outcome.reason pr)
		`debugContext.debugData.threatSuspected eq false`, // no coercion: the value is a string
		`debugContext.debugData.threatSuspected eq "false"`,
		`published gt "2026-03-02T10:00:00+01:00"`, // chronological
		`eventType sw "user." and not (outcome.result eq "SUCCESS")`,
	} {
		fmt.Println(filter.Match(must(filter.Parse(f)), doc), f)
	}
	// Output:
	// true target.id eq "0oa9"
	// false target.id ne "0oa9"
	// false outcome.reason pr
	// true outcome.reason eq null
	// false debugContext.debugData.threatSuspected eq false
	// true debugContext.debugData.threatSuspected eq "false"
	// true published gt "2026-03-02T10:00:00+01:00"
	// true eventType sw "user." and not (outcome.result eq "SUCCESS")
}

func ExampleTokens() {
	fmt.Println(filter.Tokens(map[string]any{"transaction": map[string]any{"id": "XOxBw-2JIRnCFd0gG0GjHAAABjY"}}))
	kw, _ := filter.ParseKeywords("xoxbw")
	fmt.Println(filter.MatchKeywords(kw, map[string]any{"id": "XOxBw-2JIRnCFd0gG0GjHAAABjY"}))
	// Output:
	// [2jirncfd0gg0gjhaaabjy xoxbw xoxbw-2jirncfd0gg0gjhaaabjy]
	// true
}

func must(e filter.Expr, err error) filter.Expr {
	if err != nil {
		panic(err)
	}
	return e
}
