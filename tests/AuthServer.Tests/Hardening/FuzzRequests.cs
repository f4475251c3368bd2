using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AuthServer.Tests.Hardening;

/// <summary>Who sends a fuzzed request: nobody, or a session cookie or bearer token, with its antiforgery token.</summary>
public sealed record FuzzIdentity(string Name, string? Cookie, string? Bearer, string? Antiforgery);

/// <summary>What the fuzzer knows about the running server: real codes, tokens, ids and each page's form fields.</summary>
public sealed class FuzzMaterial
{
    public required IReadOnlyList<FuzzIdentity> Identities { get; init; }

    /// <summary>Real values (client ids, codes, tokens, ids), so some requests get past the first check.</summary>
    public required IReadOnlyList<string> Values { get; init; }

    /// <summary>Values for a route's parameters (<c>{id}</c>, <c>{clientId}</c>…): ids that exist, and some that do not.</summary>
    public required IReadOnlyList<string> RouteValues { get; init; }

    /// <summary>The form fields each page's forms post, by route.</summary>
    public required IReadOnlyDictionary<string, string[]> PageFields { get; init; }
}

/// <summary>A request as sent, so a failure can be described and replayed.</summary>
public sealed record FuzzRequest(int Index, FuzzTarget Target, string Method, string Url, FuzzIdentity Identity,
    IReadOnlyList<(string Name, string Value)> Headers, string? ContentType, byte[]? Body, IReadOnlyList<string> Mutations)
{
    public string CorrelationId => $"fuzz-{Index}";

    public bool WantsHtml => Headers.Any(h => h.Name == "Accept" && h.Value.Contains("text/html", StringComparison.OrdinalIgnoreCase));

    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(new HttpMethod(Method), Url);
        if (Body is not null)
        {
            message.Content = new ByteArrayContent(Body);
            if (ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        }
        foreach (var (name, value) in Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value)) message.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        return message;
    }

    public override string ToString()
    {
        var text = new StringBuilder().Append('#').Append(Index).Append(' ').Append(Method).Append(' ').Append(Url.Length > 300 ? Url[..300] + "…" : Url)
            .Append(" as ").Append(Identity.Name).Append(" [").Append(string.Join(", ", Mutations)).Append(']');
        if (Headers.Count(h => h.Name.StartsWith("X-Fuzz-", StringComparison.Ordinal)) is > 0 and var many)
            text.Append("\n    X-Fuzz-0 … X-Fuzz-").Append(many - 1).Append(": 100 characters each");
        foreach (var (name, value) in Headers.Where(h => h.Name is not ("Cookie" or "Authorization") && !h.Name.StartsWith("X-Fuzz-", StringComparison.Ordinal)))
            text.Append("\n    ").Append(name).Append(": ").Append(value.Length > 120 ? $"{value[..120]}… ({value.Length} chars)" : value);
        if (ContentType is not null) text.Append("\n    Content-Type: ").Append(ContentType);
        if (Body is not null)
        {
            var shown = Body.Length > 400 ? Body[..400] : Body;
            text.Append("\n    body (").Append(Body.Length).Append(" bytes): ").Append(Encoding.UTF8.GetString(shown).ReplaceLineEndings("⏎"));
        }
        return text.ToString();
    }
}

/// <summary>
/// Makes malformed requests from a seed: request <c>i</c> of a seed is always the same, whatever ran before it, so a
/// failure is replayed by running the seed again. Each request goes to one target, as one identity, with a few
/// mutations of the kinds the hardening issue lists.
/// </summary>
public sealed class FuzzRequests(IReadOnlyList<FuzzTarget> targets, FuzzMaterial material)
{
    /// <summary>The parameter names of the protocol (RFC 6749, 7636, 8628, 7009, 7662, 9449, OIDC) and of our extensions.</summary>
    private static readonly string[] ProtocolFields =
    [
        "client_id", "client_secret", "grant_type", "device_code", "user_code", "code", "code_verifier", "redirect_uri",
        "refresh_token", "scope", "token", "token_type_hint", "response_type", "response_mode", "state", "nonce",
        "code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint", "id_token_hint", "ui_locales",
        "post_logout_redirect_uri", "request", "request_uri", "resource", "audience", "dpop_jkt", "claims",
        "device_name", "superseded_device_code", "client_assertion", "client_assertion_type",
    ];

    private static readonly string[] ApiFields = ["code", "confirm_ticket", "number", "scan_id", "id", "device_name", "return_url"];

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

    private static readonly string[] Accepts =
    [
        "text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json",
        "application/problem+json", "*/*", "text/plain", "image/png", "text/event-stream", "text/html;q=0", "garbage/;;q=x",
    ];

    private static readonly string[] ContentTypes =
    [
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=bogus",
        "application/json", "application/json; charset=latin1", "text/plain", "multipart/form-data", "multipart/form-data; boundary=",
        "multipart/form-data; boundary=XYZ", "application/octet-stream", "text/html", "application/xml", ";", "a/b/c", "",
    ];

    /// <summary>Text a person could type that a log, a page or a database might mishandle.</summary>
    private static readonly string[] Nasty =
    [
        "", " ", "\t", "null", "undefined", "true", "0", "-1", "1e309", "99999999999999999999999", "NaN", "[]", "{}", "\"", "'",
        "%", "%%", "%ZZ", "%00", "%FF", "+", "&", "=", "a[", "a]", "[0]", "../../etc/passwd", "/\\evil.example", "//evil.example",
        "https://evil.example/", "javascript:alert(1)", "<script>alert(1)</script>", "' OR 1=1 --", "${jndi:ldap://x}", "{{7*7}}",
        "😀", "𝕏", "中文名字", "\u202Eevil\u202C", "TV\u0000room", "\u2066isolate\u2069", "a\r\nSet-Cookie: x=y", "\u200B\u200D\uFEFF",
        "\u061C\u200E\u200F", "\u0007\u001B[31m", "2999-12-31T23:59:59Z", "00:00:00", "-00:00:01", "10675199.02:48:05.4775807",
    ];

    /// <summary>Bidi overrides, isolates, marks, zero-width and control characters, for <c>device_name</c>.</summary>
    private static readonly string[] DeviceNames =
    [
        "Living room \u202Evt\u202C", "\u202Dforced\u202C", "\u2066TV\u2069", "\u2067\u2068x\u2069", "TV\u200E\u200F", "a\u061Cb",
        "\u0000", "TV\u0001\u0002\u007F", "line\r\nbreak", "tab\there", "\u200B", "\uFEFFBOM", "\u00AD", "\u2028\u2029", "\uFFFD",
        "\uFFFF\uFFFE", "e\u0301\u0301\u0301\u0301\u0301", "😀📺", "   ", "",
    ];

    private const int Oversized = 1_200_000;

    public FuzzRequest Create(int seed, int index)
    {
        // A request depends only on (seed, index): replaying a seed replays every request.
        var random = new Random(unchecked(seed * 1_000_003 + index * 7919));
        var mutations = new List<string>();
        var target = targets[random.Next(targets.Count)];
        var identity = material.Identities[random.Next(material.Identities.Count)];

        var method = target.Method;
        if (random.Next(10) == 0)
        {
            method = Pick(random, Methods);
            mutations.Add("method " + method);
        }
        var path = FillRoute(random, target.Route, mutations);
        if (random.Next(40) == 0)
        {
            path = path.TrimEnd('/') + "/" + RandomSegment(random);
            mutations.Add("extra segment");
        }
        if (random.Next(30) == 0)
        {
            path = CaseVaried(random, path);
            mutations.Add("path case");
        }

        var fields = FieldsFor(random, target);
        var query = new List<(string, string)>();
        if (target.Handler is not null) query.Add(("handler", random.Next(25) == 0 ? CaseVaried(random, target.Handler) : target.Handler));
        var body = (byte[]?)null;
        string? contentType = null;
        var isRead = method is "GET" or "HEAD" or "DELETE" or "OPTIONS";

        var parameters = Parameters(random, fields, target, identity, mutations);
        if (isRead)
        {
            query.AddRange(parameters);
            if (random.Next(12) == 0)
            {
                (contentType, body) = Body(random, target, parameters, mutations);
                mutations.Add("body on " + method);
            }
        }
        else
        {
            if (random.Next(6) == 0) query.AddRange(parameters.Take(random.Next(parameters.Count + 1)));
            (contentType, body) = Body(random, target, parameters, mutations);
        }

        var url = path + QueryString(random, query, mutations);
        var headers = Headers(random, target, identity, mutations, index);
        return new FuzzRequest(index, target, method, url, identity, headers, contentType, body, mutations);
    }

    private string FillRoute(Random random, string route, List<string> mutations) =>
        FuzzTargets.Parameter.Replace(route, _ =>
        {
            var value = random.Next(3) switch
            {
                0 => Pick(random, material.RouteValues),
                1 => Garbage(random),
                _ => Pick(random, material.Values),
            };
            if (random.Next(4) == 0) mutations.Add("route value");
            // Kestrel refuses a NUL in the path with 400 before the app runs; the in-memory server cannot send one.
            value = value.Replace("\0", "");
            return Uri.EscapeDataString(value.Length > 2000 ? value[..2000] : value);
        });

    private string[] FieldsFor(Random random, FuzzTarget target) => target.Door switch
    {
        Door.Protocol => ProtocolFields,
        Door.JsonApi => ApiFields,
        _ => material.PageFields.TryGetValue(target.Route, out var page) && page.Length > 0 && random.Next(5) != 0 ? page : ProtocolFields,
    };

    /// <summary>
    /// Fields with values: a few known names, sometimes missing ones, duplicated ones (RFC 6749 §3.1 makes them an
    /// error), names in other cases, bracket names MVC cannot parse, and values real or not.
    /// </summary>
    private List<(string, string)> Parameters(Random random, string[] fields, FuzzTarget target, FuzzIdentity identity, List<string> mutations)
    {
        var chosen = fields.OrderBy(_ => random.Next()).Take(random.Next(1, Math.Min(fields.Length, 8) + 1)).ToList();
        var parameters = chosen.Select(name => (name, Value(random, name))).ToList();
        if (random.Next(4) == 0 && parameters.Count > 1)
        {
            parameters.RemoveAt(random.Next(parameters.Count));
            mutations.Add("missing parameter");
        }
        if (random.Next(5) == 0 && parameters.Count > 0)
        {
            var (name, _) = parameters[random.Next(parameters.Count)];
            parameters.Add((name, Value(random, name)));
            mutations.Add("duplicated " + name);
        }
        if (random.Next(6) == 0 && parameters.Count > 0)
        {
            var at = random.Next(parameters.Count);
            parameters[at] = (CaseVaried(random, parameters[at].Item1), parameters[at].Item2);
            mutations.Add("case-varied " + parameters[at].Item1);
        }
        if (random.Next(8) == 0)
        {
            parameters.Add((Pick(random, ["a[", "Input[", "a]", "[", "]", "a[b", "a[]]", "Input.", ".", "a..b", "a[0][", "__proto__", ""]), "1"));
            mutations.Add("bracket key " + parameters[^1].Item1);
        }
        if (random.Next(6) == 0)
        {
            parameters.Add(("device_name", Pick(random, DeviceNames)));
            mutations.Add("device_name");
        }
        if (identity.Antiforgery is not null && target.Door != Door.Protocol && random.Next(3) != 0)
            parameters.Add(("__RequestVerificationToken", random.Next(10) == 0 ? Garbage(random) : identity.Antiforgery));
        return parameters.OrderBy(_ => random.Next()).ToList();
    }

    private string Value(Random random, string name) => random.Next(8) switch
    {
        < 3 => Pick(random, material.Values),
        3 when name == "device_name" => Pick(random, DeviceNames),
        4 => Pick(random, Nasty),
        5 => new string('A', random.Next(1, 5) * random.Next(1, 5000)),
        _ => Garbage(random),
    };

    private (string? ContentType, byte[] Body) Body(Random random, FuzzTarget target, List<(string, string)> parameters, List<string> mutations)
    {
        var natural = target.Door == Door.JsonApi && target.Route.StartsWith("/api", StringComparison.Ordinal)
            ? "application/json" : "application/x-www-form-urlencoded";
        var contentType = random.Next(5) == 0 ? Pick(random, ContentTypes) : natural;
        if (contentType != natural) mutations.Add("content type " + (contentType.Length == 0 ? "(empty)" : contentType));
        if (random.Next(20) == 0)
        {
            mutations.Add("no content type");
            contentType = null;
        }

        byte[] body;
        switch (random.Next(20))
        {
            case 0:
                mutations.Add("empty body");
                body = [];
                break;
            case 1:
            case 2:
                mutations.Add("random bytes");
                body = new byte[random.Next(1, 4096)];
                random.NextBytes(body);
                break;
            case 3 when random.Next(4) == 0:
                mutations.Add("oversized");
                body = Encoding.ASCII.GetBytes(FormText(random, [.. parameters, ("padding", new string('x', Oversized))]));
                break;
            case 4:
                mutations.Add("broken multipart");
                body = Encoding.UTF8.GetBytes(Pick(random, [
                    "--XYZ\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\ndemo-tv",
                    "--XYZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XYZ--",
                    "client_id=demo-tv", "--XYZ--", "--\r\n\r\n"]));
                break;
            case 5:
            case 6:
                mutations.Add("invalid utf-8");
                body = InvalidUtf8(random, natural == "application/json" ? JsonText(random, parameters) : FormText(random, parameters));
                break;
            default:
                body = Encoding.UTF8.GetBytes(natural == "application/json" && random.Next(6) != 0
                    ? JsonText(random, parameters)
                    : FormText(random, parameters));
                break;
        }
        return (contentType, body);
    }

    private static string FormText(Random random, IEnumerable<(string Name, string Value)> parameters) =>
        string.Join("&", parameters.Select(p => random.Next(15) == 0
            ? p.Name + "=" + p.Value                // unencoded: a '&' or '=' in the value splits it
            : Uri.EscapeDataString(p.Name) + "=" + Uri.EscapeDataString(p.Value)));

    private static string QueryString(Random random, List<(string Name, string Value)> query, List<string> mutations)
    {
        if (query.Count == 0) return "";
        var text = FormText(random, query);
        if (random.Next(15) == 0)
        {
            text += Pick(random, ["&%", "&%ZZ=1", "&a=%FF%FE", "&=", "&&&", "&a=%C3%28", "&%E2%80%AE=1"]);
            mutations.Add("bad query escape");
        }
        return "?" + text;
    }

    /// <summary>JSON shaped like the API's bodies, with values of any type, sometimes deep, cut off or not an object.</summary>
    private static string JsonText(Random random, List<(string Name, string Value)> parameters)
    {
        switch (random.Next(12))
        {
            case 0: return new string('[', 2000) + new string(']', 2000);
            case 1: return "{\"code\":";
            case 2: return "[" + string.Join(",", parameters.Select(p => JsonSerializer.Serialize(p.Value))) + "]";
            case 3: return "\"just a string\"";
            case 4: return "{\"code\":\"a\",\"code\":\"b\"}";
        }
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in parameters)
            {
                writer.WritePropertyName(random.Next(10) == 0 ? name.ToUpperInvariant() : name);
                switch (random.Next(7))
                {
                    case 0: writer.WriteNumberValue(random.NextInt64(long.MinValue, long.MaxValue)); break;
                    case 1: writer.WriteBooleanValue(random.Next(2) == 0); break;
                    case 2: writer.WriteNullValue(); break;
                    case 3:
                        writer.WriteStartArray();
                        writer.WriteStringValue(value);
                        writer.WriteEndArray();
                        break;
                    case 4: writer.WriteRawValue("1e999", skipInputValidation: true); break;
                    default: writer.WriteStringValue(value); break;
                }
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Bytes that are not UTF-8 (a stray continuation, an overlong form, a surrogate, 0xFF) spliced into text.</summary>
    private static byte[] InvalidUtf8(Random random, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text).ToList();
        byte[][] bad = [[0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]];
        for (var i = random.Next(1, 4); i > 0; i--) bytes.InsertRange(random.Next(bytes.Count + 1), Pick(random, bad));
        return [.. bytes];
    }

    private List<(string, string)> Headers(Random random, FuzzTarget target, FuzzIdentity identity, List<string> mutations, int index)
    {
        var headers = new List<(string, string)>();
        if (random.Next(6) != 0) headers.Add(("Accept", Pick(random, Accepts)));
        if (identity.Cookie is not null) headers.Add(("Cookie", identity.Cookie));
        if (identity.Bearer is not null) headers.Add(("Authorization", "Bearer " + identity.Bearer));
        headers.Add((AuthServer.Hosting.CorrelationId.Header, $"fuzz-{index}"));
        switch (random.Next(14))
        {
            case 0:
                var (name, value) = Pick(random, HugeHeaders(random));
                headers.RemoveAll(h => h.Item1 == name);
                headers.Add((name, value));
                mutations.Add($"huge {name}");
                break;
            case 1:
                for (var i = 0; i < 300; i++) headers.Add(($"X-Fuzz-{i}", new string('h', 100)));
                mutations.Add("300 headers");
                break;
            case 2:
                headers.RemoveAll(h => h.Item1 == "Authorization");
                headers.Add(("Authorization", Pick(random, [
                    "Bearer", "Bearer ", "Bearer " + Garbage(random), "Basic", "Basic !!!", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Garbage(random))),
                    "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("demo-tv:")), "Basic Og==", "DPoP " + Garbage(random), "Negotiate abc", "a b c d"])));
                mutations.Add("authorization header");
                break;
            case 3:
                headers.Add(("DPoP", Pick(random, ["", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", Garbage(random)])));
                mutations.Add("dpop header");
                break;
            case 4:
                headers.Add(("Origin", Pick(random, ["https://evil.example", "null", "https://webapp.example", Garbage(random)])));
                mutations.Add("origin");
                break;
            case 5:
                headers.Add(("Accept-Language", Pick(random, ["zh-CN", "zh-TW;q=0.9, *;q=0.1", "xx-YY", ";;;q=", "zh-Hans-CN-x-private", Garbage(random)])));
                mutations.Add("accept-language");
                break;
            case 6:
                headers.Add(("X-Forwarded-For", Pick(random, ["1.2.3.4", "::1, 10.0.0.1", "not-an-ip", "999.999.999.999", Garbage(random)])));
                headers.Add(("X-Forwarded-Proto", Pick(random, ["https", "gopher", ""])));
                mutations.Add("forwarded");
                break;
            case 7:
                headers.Add(("traceparent", Pick(random, ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "ff-0-0-0", Garbage(random)])));
                mutations.Add("traceparent");
                break;
        }
        if (random.Next(20) == 0)
        {
            // The antiforgery token as a header too (ASP.NET Core reads "RequestVerificationToken").
            headers.Add(("RequestVerificationToken", identity.Antiforgery ?? Garbage(random)));
            mutations.Add("antiforgery header");
        }
        // Kestrel refuses control and non-ASCII characters in header values before the app sees them; the in-memory
        // server would pass them on, so they are left out to keep every finding one a real client could cause.
        return [.. headers.Select(h => (h.Item1, AsciiOnly(h.Item2)))];
    }

    private static string AsciiOnly(string value) => string.Create(value.Length, value, (chars, text) =>
    {
        for (var i = 0; i < chars.Length; i++) chars[i] = text[i] is >= ' ' and <= '~' ? text[i] : '?';
    });

    private static (string, string)[] HugeHeaders(Random random)
    {
        var big = new string('x', random.Next(16_000, 70_000));
        return
        [
            ("User-Agent", "Mozilla/5.0 " + big),
            ("Cookie", "a=" + big),
            ("Accept-Language", string.Join(",", Enumerable.Range(0, 3000).Select(i => $"x{i % 100}-Y;q=0.{i % 10}"))),
            ("Authorization", "Bearer " + big),
            ("Referer", "https://example.com/" + big),
            ("X-Correlation-Id", big),
            ("Accept", string.Join(",", Enumerable.Range(0, 3000).Select(i => $"type{i}/sub{i};q=0.5"))),
        ];
    }

    private static string RandomSegment(Random random) =>
        Pick(random, ["x", "..", "%2e%2e", "%01", "index", "~", "a%2Fb", Uri.EscapeDataString(Garbage(random).Replace("\0", ""))]);

    private static string CaseVaried(Random random, string text) =>
        string.Concat(text.Select(c => random.Next(2) == 0 ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c)));

    /// <summary>Random text: printable ASCII, any BMP character, or a mix, from empty to a few kilobytes.</summary>
    private static string Garbage(Random random)
    {
        var length = random.Next(4) == 0 ? random.Next(256, 4096) : random.Next(0, 40);
        var chars = new char[length];
        var kind = random.Next(3);
        for (var i = 0; i < length; i++)
        {
            chars[i] = kind switch
            {
                0 => (char)random.Next(0x20, 0x7F),
                1 => (char)random.Next(0x00, 0xD800),
                _ => random.Next(4) == 0 ? (char)random.Next(0x00, 0x20) : (char)random.Next(0x20, 0x3000),
            };
        }
        return new string(chars);
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
