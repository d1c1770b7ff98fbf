using Trove.Domain;

namespace Trove.Search.Query;

/// <summary>Bounds that keep pathological queries from costing more than a normal one.</summary>
public sealed record QueryLimits
{
    public static QueryLimits Default { get; } = new();

    /// <summary>Longest query text, in characters.</summary>
    public int MaxLength { get; init; } = 8_192;

    /// <summary>Most terms (tags, metatags, 'or's and parentheses do not count).</summary>
    public int MaxTerms { get; init; } = 256;

    /// <summary>Deepest nesting of parentheses and negations.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>Most tags one wildcard (tag or suggested:) may stand for.</summary>
    public int MaxWildcardTags { get; init; } = 5_000;

    /// <summary>Most tags all wildcards of a query may stand for together.</summary>
    public int MaxExpandedTags { get; init; } = 20_000;

    /// <summary>Most caption words a <c>caption:prefix*</c> may stand for.</summary>
    public int MaxPrefixWords { get; init; } = 5_000;
}

/// <summary>
/// Parses the query language (docs/query-language.md) into a typed tree with source positions. The grammar:
/// <code>
/// query := or
/// or    := and ('or' and)*
/// and   := unary+
/// unary := '-' unary | '(' or ')' | term
/// </code>
/// A word starting with '(' opens groups; ')' characters at the end of a word close groups unless they balance a
/// '(' inside the word (booru qualifiers: <c>saber_(fate)</c>). Double quotes keep spaces in a value.
/// </summary>
public static class QueryParser
{
    public static ParsedQuery Parse(string? text, QueryLimits? limits = null)
    {
        text ??= string.Empty;
        limits ??= QueryLimits.Default;
        if (text.Length > limits.MaxLength)
        {
            throw QueryErrors.Complex($"The query is {text.Length:N0} characters long; at most {limits.MaxLength:N0} are allowed.");
        }

        var tokens = Lex(text);
        var terms = 0;
        foreach (var t in tokens)
        {
            if (t.Kind == TokenKind.Term && ++terms > limits.MaxTerms)
            {
                throw QueryErrors.Complex($"The query has more than {limits.MaxTerms} terms (the first one over the limit is at column {t.Span.Column}); split it or use wildcards.");
            }
        }

        var parser = new Parser(text, tokens, limits);
        var root = parser.ParseAll();
        return Lift(text, root);
    }

    /// <summary>
    /// Takes <c>order:</c>, <c>semantic:</c>/<c>like:</c> and <c>min-score:</c> out of the tree: each applies to the
    /// whole query wherever it stands (inside a group too), but cannot be negated, be one side of an 'or', or appear
    /// twice. <c>min-score:</c> needs a ranking term.
    /// </summary>
    private static ParsedQuery Lift(string text, QueryNode? root)
    {
        OrderTerm? order = null;
        RankingTerm? ranking = null;
        MinScoreTerm? minScore = null;
        root = root is null ? null : Strip(root);
        if (minScore is not null && ranking is null)
        {
            throw QueryErrors.Term(text, minScore.Span, "min-score: needs a semantic:\"…\" or like:ID term to score against");
        }

        return new ParsedQuery(text, root, order?.Order ?? OrderSpec.Newest, order?.Span)
        {
            Ranking = ranking,
            MinScore = minScore?.Value,
            MinScoreSpan = minScore?.Span,
        };

        QueryNode? Strip(QueryNode node)
        {
            switch (node)
            {
                case OrderTerm o:
                    if (order is not null)
                    {
                        throw QueryErrors.At(o.Span, $"A second order: ('{QueryErrors.Slice(text, o.Span)}')");
                    }

                    order = o;
                    return null;
                case RankingTerm r:
                    if (ranking is not null)
                    {
                        throw QueryErrors.Term(text, r.Span, "only one semantic: or like: term can rank a query; put the words in one semantic:\"…\"");
                    }

                    ranking = r;
                    return null;
                case MinScoreTerm m:
                    if (minScore is not null)
                    {
                        throw QueryErrors.At(m.Span, $"A second min-score: ('{QueryErrors.Slice(text, m.Span)}')");
                    }

                    minScore = m;
                    return null;
                case AndNode a:
                    var kept = a.Children.Select(Strip).OfType<QueryNode>().ToList();
                    return kept.Count switch
                    {
                        0 => null,
                        1 => kept[0],
                        _ => a with { Children = kept },
                    };
                case OrNode o:
                    foreach (var child in o.Children)
                    {
                        // A ranking term anywhere under an 'or' would rank only one side; order: only as a side itself.
                        if ((child is OrderTerm ? child : FindLifted(child) is { } lifted and not OrderTerm ? lifted : null) is { } misplaced)
                        {
                            throw QueryErrors.Term(text, misplaced.Span, $"{NameOf(misplaced)} cannot be one side of an 'or'; put it next to the group: (a or b) {NameOf(misplaced)}…");
                        }
                    }

                    return o with { Children = o.Children.Select(c => Strip(c)!).ToList() };
                case NotNode n:
                    if (FindLifted(n.Child) is { } negated)
                    {
                        throw QueryErrors.Term(text, negated.Span, $"{NameOf(negated)} cannot be negated");
                    }

                    return n;
                default:
                    return node;
            }
        }
    }

    private static string NameOf(QueryNode lifted) => lifted switch
    {
        OrderTerm => "order:",
        MinScoreTerm => "min-score:",
        RankingTerm { Kind: RankingKind.Media } => "like:",
        _ => "semantic:",
    };

    private static QueryNode? FindLifted(QueryNode node) => node switch
    {
        OrderTerm or RankingTerm or MinScoreTerm => node,
        AndNode a => a.Children.Select(FindLifted).FirstOrDefault(o => o is not null),
        OrNode o => o.Children.Select(FindLifted).FirstOrDefault(x => x is not null),
        NotNode n => FindLifted(n.Child),
        _ => null,
    };

    internal enum TokenKind
    {
        Term,
        LParen,
        RParen,
        Or,
        Minus,
    }

    internal readonly record struct Token(TokenKind Kind, SourceSpan Span);

    internal static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            var start = i;
            var quoteAt = -1;
            while (i < text.Length && (quoteAt >= 0 || !char.IsWhiteSpace(text[i])))
            {
                if (text[i] == '\\' && quoteAt >= 0 && i + 1 < text.Length)
                {
                    i += 2;
                    continue;
                }

                if (text[i] == '"')
                {
                    quoteAt = quoteAt >= 0 ? -1 : i;
                }

                i++;
            }

            if (quoteAt >= 0)
            {
                throw QueryErrors.At(new SourceSpan(quoteAt, 1), "A quote (\") that is never closed");
            }

            LexWord(text, start, i, tokens);
        }

        return tokens;
    }

    private static void LexWord(string text, int start, int end, List<Token> tokens)
    {
        var p = start;
        while (p < end)
        {
            if (text[p] == '(')
            {
                tokens.Add(new Token(TokenKind.LParen, new SourceSpan(p, 1)));
                p++;
            }
            else if (text[p] == '-' && p + 1 < end)
            {
                tokens.Add(new Token(TokenKind.Minus, new SourceSpan(p, 1)));
                p++;
            }
            else
            {
                break;
            }
        }

        // Closing parentheses at the end of the word, unless they balance an opening one inside it.
        var open = 0;
        var close = 0;
        var quoted = false;
        for (var k = p; k < end; k++)
        {
            if (quoted && text[k] == '\\' && k + 1 < end)
            {
                k++;
                continue;
            }

            if (text[k] == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && text[k] == '(')
            {
                open++;
            }
            else if (!quoted && text[k] == ')')
            {
                close++;
            }
        }

        var bodyEnd = end;
        while (bodyEnd > p && text[bodyEnd - 1] == ')' && close > open)
        {
            bodyEnd--;
            close--;
        }

        if (bodyEnd > p)
        {
            var span = new SourceSpan(p, bodyEnd - p);
            var isOr = bodyEnd - p == 2 && (text[p] is 'o' or 'O') && (text[p + 1] is 'r' or 'R');
            tokens.Add(new Token(isOr ? TokenKind.Or : TokenKind.Term, span));
        }

        for (var k = bodyEnd; k < end; k++)
        {
            tokens.Add(new Token(TokenKind.RParen, new SourceSpan(k, 1)));
        }
    }

    private sealed class Parser(string text, List<Token> tokens, QueryLimits limits)
    {
        private int _pos;

        public QueryNode? ParseAll()
        {
            if (tokens.Count == 0)
            {
                return null;
            }

            var root = ParseOr(0);
            if (_pos < tokens.Count)
            {
                var t = tokens[_pos];
                throw QueryErrors.At(t.Span, "A ')' that closes no open '('");
            }

            return root;
        }

        private Token? Peek => _pos < tokens.Count ? tokens[_pos] : null;

        private QueryNode ParseOr(int depth)
        {
            var first = ParseAnd(depth);
            if (Peek is not { Kind: TokenKind.Or })
            {
                return first;
            }

            var children = first is OrNode leading ? [.. leading.Children] : new List<QueryNode> { first };
            while (Peek is { Kind: TokenKind.Or } or)
            {
                _pos++;
                if (Peek is null or { Kind: TokenKind.Or or TokenKind.RParen })
                {
                    throw QueryErrors.At(or.Span, "'or' needs a term after it");
                }

                var next = ParseAnd(depth);
                if (next is OrNode nested)
                {
                    children.AddRange(nested.Children);
                }
                else
                {
                    children.Add(next);
                }
            }

            return new OrNode(children, SourceSpan.Cover(children[0].Span, children[^1].Span));
        }

        private QueryNode ParseAnd(int depth)
        {
            var children = new List<QueryNode>();
            while (Peek is { } t && t.Kind is not (TokenKind.Or or TokenKind.RParen))
            {
                var node = ParseUnary(depth);
                if (node is AndNode inner)
                {
                    children.AddRange(inner.Children);
                }
                else
                {
                    children.Add(node);
                }
            }

            if (children.Count == 0)
            {
                var at = Peek!.Value;
                throw at.Kind == TokenKind.Or
                    ? QueryErrors.At(at.Span, "'or' needs a term before it")
                    : QueryErrors.At(at.Span, "A ')' that closes no open '(' (or an empty group)");
            }

            return children.Count == 1 ? children[0] : new AndNode(children, SourceSpan.Cover(children[0].Span, children[^1].Span));
        }

        private QueryNode ParseUnary(int depth)
        {
            if (depth > limits.MaxDepth)
            {
                throw QueryErrors.Complex($"The query nests parentheses and negations more than {limits.MaxDepth} deep (at column {tokens[_pos].Span.Column}).");
            }

            var t = tokens[_pos++];
            switch (t.Kind)
            {
                case TokenKind.Minus:
                    if (Peek is null or { Kind: TokenKind.Or or TokenKind.RParen })
                    {
                        throw QueryErrors.At(t.Span, "A '-' with nothing to negate");
                    }

                    var child = ParseUnary(depth + 1);
                    return new NotNode(child, SourceSpan.Cover(t.Span, child.Span));
                case TokenKind.LParen:
                    if (Peek is null)
                    {
                        throw QueryErrors.At(t.Span, "A '(' that is never closed");
                    }

                    if (Peek is { Kind: TokenKind.RParen })
                    {
                        throw QueryErrors.At(t.Span, "An empty group '()'");
                    }

                    var inner = ParseOr(depth + 1);
                    if (Peek is not { Kind: TokenKind.RParen } close)
                    {
                        throw QueryErrors.At(t.Span, "A '(' that is never closed");
                    }

                    _pos++;
                    return inner is AndNode or OrNode or NotNode
                        ? Respan(inner, SourceSpan.Cover(t.Span, close.Span))
                        : inner;
                default:
                    return ParseTerm(t.Span);
            }
        }

        private static QueryNode Respan(QueryNode node, SourceSpan span) => node switch
        {
            AndNode a => a with { Span = span },
            OrNode o => o with { Span = span },
            NotNode n => n with { Span = span },
            _ => node,
        };

        private QueryNode ParseTerm(SourceSpan span)
        {
            var body = text.Substring(span.Start, span.Length);
            if (body == "-")
            {
                throw QueryErrors.At(span, "A '-' with nothing to negate");
            }

            var colon = IndexOutsideQuotes(body, ':');
            if (colon > 0)
            {
                var name = body[..colon].ToLowerInvariant();
                var (value, quoted) = Unquote(body[(colon + 1)..], span);
                if (Metatags.IsMetatag(name))
                {
                    return Metatags.Parse(name, value, text, span);
                }

                if (!quoted && body.Contains('*', StringComparison.Ordinal))
                {
                    return new WildcardTerm(Metatags.WildcardPattern(body), span);
                }

                if (!quoted && TagNames.TryNormalize(body, out var colonTag, out _))
                {
                    return new TagTerm(colonTag, span, name);
                }

                throw QueryErrors.UnknownMetatag(name, span);
            }

            var (raw, _) = Unquote(body, span);
            if (raw.Contains('*', StringComparison.Ordinal))
            {
                var pattern = Metatags.WildcardPattern(raw);
                if (pattern.Length > TagNames.MaxLength)
                {
                    throw QueryErrors.Term(text, span, $"a wildcard can be at most {TagNames.MaxLength} characters");
                }

                return new WildcardTerm(pattern, span);
            }

            return TagNames.TryNormalize(raw, out var tag, out var error)
                ? new TagTerm(tag, span)
                : throw QueryErrors.Term(text, span, error.TrimEnd('.'));
        }

        private (string Value, bool Quoted) Unquote(string raw, SourceSpan span)
        {
            if (!raw.Contains('"', StringComparison.Ordinal))
            {
                return (raw, false);
            }

            if (raw.Length >= 2 && raw[0] == '"' && raw[^1] == '"' && IndexOutsideQuotes(raw[1..^1], '"') < 0)
            {
                var inner = raw[1..^1];
                var sb = new System.Text.StringBuilder(inner.Length);
                for (var i = 0; i < inner.Length; i++)
                {
                    if (inner[i] == '\\' && i + 1 < inner.Length)
                    {
                        i++;
                    }

                    sb.Append(inner[i]);
                }

                return (sb.ToString(), true);
            }

            throw QueryErrors.Term(text, span, "quotes must surround the whole value, like caption:\"red car\"");
        }

        /// <summary>Index of <paramref name="c"/> not inside quotes and not escaped, or −1.</summary>
        private static int IndexOutsideQuotes(string s, char c)
        {
            var quoted = false;
            for (var i = 0; i < s.Length; i++)
            {
                if (s[i] == '\\' && (quoted || c == '"') && i + 1 < s.Length)
                {
                    i++;
                    continue;
                }

                if (s[i] == c && !quoted)
                {
                    return i;
                }

                if (s[i] == '"')
                {
                    quoted = !quoted;
                }
            }

            return -1;
        }
    }
}
