package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	register(command{name: "help", summary: "help on permctl or one command: permctl help [COMMAND]", run: runHelp})
}

// runHelp prints the overview, or a command's own help (what
// "permctl COMMAND -h" prints), on stdout.
func runHelp(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		usage(e.stdout)
		return nil
	}
	if strings.HasPrefix(args[0], "-") || args[0] == "help" {
		fs := newFlags(e, "help", "[COMMAND]")
		return parseFlags(fs, []string{"-h"})
	}
	c, ok := commands[args[0]]
	if !ok {
		return unknownCommand(args[0])
	}
	return c.run(ctx, e, append(args[1:len(args):len(args)], "-h"))
}

func unknownCommand(name string) error {
	return usagef("unknown command %q%s (see permctl help)", name, didYouMean(name, commandNames()))
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// printFlags lists fs's flags as they are typed, with two dashes
// ("--always", not "-always"), then the global flags.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var lines [][2]string
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		n := "--" + f.Name
		if arg != "" {
			n += " " + strings.ToUpper(arg)
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "-1" {
			usage += " (default " + def + ")"
		}
		lines = append(lines, [2]string{n, usage})
	})
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nflags:")
		for _, l := range lines {
			fmt.Fprintf(w, "  %-22s %s\n", l[0], l[1])
		}
	}
	fmt.Fprintln(w, "\nglobal flags (before or after the command):")
	fmt.Fprint(w, globalsHelp())
}

// unknownFlag rewrites the flag package's "flag provided but not
// defined: -x" into a line that names the flag as typed and suggests
// the closest one.
func unknownFlag(fs *flag.FlagSet, msg string) string {
	name, ok := strings.CutPrefix(msg, "flag provided but not defined: -")
	if !ok {
		return msg
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	for _, g := range globalFlags {
		names = append(names, g.name)
	}
	s := didYouMean(name, names)
	if s != "" {
		s = strings.Replace(s, "did you mean ", "did you mean --", 1)
	}
	return fmt.Sprintf("unknown flag --%s%s", name, s)
}

// didYouMean returns " (did you mean X?)" for the candidate closest to
// s, or "" when none is close: within a third of the length in edits,
// or s being a prefix of exactly one candidate.
func didYouMean(s string, candidates []string) string {
	best, bestD := "", 1<<30
	var prefixed []string
	for _, c := range candidates {
		if c == s {
			continue
		}
		if strings.HasPrefix(c, s) && len(s) >= 2 {
			prefixed = append(prefixed, c)
		}
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(1, len(s)/3)
	switch {
	case bestD <= limit:
		return " (did you mean " + best + "?)"
	case len(prefixed) == 1:
		return " (did you mean " + prefixed[0] + "?)"
	}
	return ""
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: permctl [global flags] COMMAND [ARGS] [flags]")
	fmt.Fprintln(w, "\ncommands:")
	tw := newTable(w, 0, -1)
	for _, n := range commandNames() {
		tw.row("  "+n, commands[n].summary)
	}
	tw.flush()
	fmt.Fprintln(w, "\nglobal flags (before or after the command):")
	fmt.Fprint(w, globalsHelp())
	fmt.Fprintln(w, "  --version         print permctl's version and exit")
	fmt.Fprintln(w, "\n\"permctl help COMMAND\" or \"permctl COMMAND -h\" shows a command's flags.")
	fmt.Fprintln(w, "exit codes: 0 ok, 1 error, 2 usage (also input permd rejected), 3 permd not running, 4 permission denied, 5 other permd error")
}
