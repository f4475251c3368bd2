using System.Globalization;
using AuthServer.Clients;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace AuthServer.Pages.Admin.Clients;

/// <summary>
/// The client form, as the admin types it: lists one per line, times as in configuration (<c>hh:mm:ss</c> or
/// <c>d.hh:mm:ss</c>). It becomes a <see cref="ClientDefinition"/>, checked by the same <see cref="ClientRules"/> as
/// configuration, with each problem shown at its field.
/// </summary>
public sealed class ClientInput
{
    public string ClientId { get; set; } = "";
    public string? DisplayName { get; set; }
    public string? LogoUri { get; set; }
    public ClientType Type { get; set; } = ClientType.Public;
    public string? RedirectUris { get; set; }
    public string? PostLogoutRedirectUris { get; set; }
    public string? AllowedCorsOrigins { get; set; }
    public List<string> GrantTypes { get; set; } = [];
    public List<string> Scopes { get; set; } = [];
    public string DeviceCodeLifetime { get; set; } = Format(ClientSettings.DefaultDeviceCodeLifetime);
    public string PollInterval { get; set; } = Format(ClientSettings.DefaultPollInterval);
    public bool NumberMatching { get; set; }
    public bool RequireDpop { get; set; }
    public string? AccessTokenLifetime { get; set; }
    public string? IdentityTokenLifetime { get; set; }
    public string RefreshTokenIdleLifetime { get; set; } = Format(ClientSettings.DefaultRefreshTokenIdleLifetime);
    public string RefreshTokenAbsoluteLifetime { get; set; } = Format(ClientSettings.DefaultRefreshTokenAbsoluteLifetime);
    public bool FirstParty { get; set; }
    public string? IdTokenSignedResponseAlg { get; set; }

    public static ClientInput From(Client client) => new()
    {
        ClientId = client.ClientId,
        DisplayName = client.DisplayName,
        LogoUri = client.LogoUri,
        Type = client.Type,
        RedirectUris = Lines(client.RedirectUris),
        PostLogoutRedirectUris = Lines(client.PostLogoutRedirectUris),
        AllowedCorsOrigins = Lines(client.AllowedCorsOrigins),
        GrantTypes = [.. client.GrantTypes],
        Scopes = [.. client.Scopes],
        DeviceCodeLifetime = Format(client.DeviceCodeLifetime),
        PollInterval = Format(client.PollInterval),
        NumberMatching = client.NumberMatching,
        RequireDpop = client.RequireDpop,
        AccessTokenLifetime = client.AccessTokenLifetime is { } access ? Format(access) : null,
        IdentityTokenLifetime = client.IdentityTokenLifetime is { } identity ? Format(identity) : null,
        RefreshTokenIdleLifetime = Format(client.RefreshTokenIdleLifetime),
        RefreshTokenAbsoluteLifetime = Format(client.RefreshTokenAbsoluteLifetime),
        FirstParty = client.FirstParty,
        IdTokenSignedResponseAlg = client.IdTokenSignedResponseAlg,
    };

    /// <summary>
    /// The definition this form describes (secrets aside: the server makes those), or null with every problem added
    /// to <paramref name="modelState"/> under <paramref name="prefix"/>.
    /// </summary>
    public ClientDefinition? ToDefinition(ModelStateDictionary modelState, string prefix, Tokens.ScopeCatalog scopes, bool disabled)
    {
        var valid = true;
        TimeSpan Time(string field, string? text, TimeSpan fallback)
        {
            if (TryParseTime(text, out var value)) return value;
            modelState.AddModelError($"{prefix}.{field}", "Write a time as hh:mm:ss, or d.hh:mm:ss for days.");
            valid = false;
            return fallback;
        }
        TimeSpan? Optional(string field, string? text) => string.IsNullOrWhiteSpace(text) ? null : Time(field, text, TimeSpan.Zero);

        var definition = new ClientDefinition
        {
            DisplayName = DisplayName?.Trim() is { Length: > 0 } name ? name : null,
            LogoUri = LogoUri?.Trim() is { Length: > 0 } logo ? logo : null,
            Type = Type,
            Disabled = disabled,
            RedirectUris = Split(RedirectUris),
            PostLogoutRedirectUris = Split(PostLogoutRedirectUris),
            AllowedCorsOrigins = Split(AllowedCorsOrigins),
            GrantTypes = [.. GrantTypes.Distinct(StringComparer.Ordinal)],
            Scopes = [.. Scopes.Distinct(StringComparer.Ordinal)],
            DeviceCodeLifetime = Time(nameof(DeviceCodeLifetime), DeviceCodeLifetime, ClientSettings.DefaultDeviceCodeLifetime),
            PollInterval = Time(nameof(PollInterval), PollInterval, ClientSettings.DefaultPollInterval),
            NumberMatching = NumberMatching,
            RequireDpop = RequireDpop,
            AccessTokenLifetime = Optional(nameof(AccessTokenLifetime), AccessTokenLifetime),
            IdentityTokenLifetime = Optional(nameof(IdentityTokenLifetime), IdentityTokenLifetime),
            RefreshTokenIdleLifetime = Time(nameof(RefreshTokenIdleLifetime), RefreshTokenIdleLifetime, ClientSettings.DefaultRefreshTokenIdleLifetime),
            RefreshTokenAbsoluteLifetime = Time(nameof(RefreshTokenAbsoluteLifetime), RefreshTokenAbsoluteLifetime, ClientSettings.DefaultRefreshTokenAbsoluteLifetime),
            FirstParty = FirstParty,
            IdTokenSignedResponseAlg = string.IsNullOrEmpty(IdTokenSignedResponseAlg) ? null : IdTokenSignedResponseAlg,
        };
        // A field whose text did not parse already has its error; the rules then judge the rest.
        foreach (var problem in ClientRules.Validate(definition, scopes, withSecrets: false))
        {
            var key = $"{prefix}.{problem.Field}";
            if (modelState.TryGetValue(key, out var entry) && entry.Errors.Count > 0) continue;
            modelState.AddModelError(key, Sentence(problem.Message));
            valid = false;
        }
        return valid ? definition : null;
    }

    /// <summary>Each field as a label and a comparable text: what the conflict view lines up and the audit names.</summary>
    public IEnumerable<(string Label, string Value)> Fields()
    {
        yield return ("Display name", DisplayName ?? "");
        yield return ("Logo URL", LogoUri ?? "");
        yield return ("Type", Type.ToString());
        yield return ("Redirect URIs", Normalize(RedirectUris));
        yield return ("Post-logout redirect URIs", Normalize(PostLogoutRedirectUris));
        yield return ("CORS origins", Normalize(AllowedCorsOrigins));
        yield return ("Grant types", string.Join(" ", GrantTypes.Order(StringComparer.Ordinal)));
        yield return ("Scopes", string.Join(" ", Scopes.Order(StringComparer.Ordinal)));
        yield return ("Device code lifetime", DeviceCodeLifetime.Trim());
        yield return ("Poll interval", PollInterval.Trim());
        yield return ("Number matching", NumberMatching ? "on" : "off");
        yield return ("Require DPoP", RequireDpop ? "on" : "off");
        yield return ("Access token lifetime", AccessTokenLifetime?.Trim() is { Length: > 0 } a ? a : "server default");
        yield return ("ID token lifetime", IdentityTokenLifetime?.Trim() is { Length: > 0 } i ? i : "server default");
        yield return ("Refresh token idle lifetime", RefreshTokenIdleLifetime.Trim());
        yield return ("Refresh token absolute lifetime", RefreshTokenAbsoluteLifetime.Trim());
        yield return ("First party", FirstParty ? "yes" : "no");
        yield return ("ID token algorithm", IdTokenSignedResponseAlg is { Length: > 0 } alg ? alg : "server default");
    }

    /// <summary>The labels of the fields in which <paramref name="other"/> differs from this form.</summary>
    public IReadOnlyList<string> ChangedFrom(ClientInput other) =>
        [.. Fields().Zip(other.Fields()).Where(p => p.First.Value != p.Second.Value).Select(p => p.First.Label)];

    public static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    /// <summary>A time as configuration writes it; a bare number (which .NET would read as days) is refused.</summary>
    public static bool TryParseTime(string? text, out TimeSpan value)
    {
        value = default;
        return text is not null && text.Contains(':', StringComparison.Ordinal)
            && TimeSpan.TryParseExact(text.Trim(), ["c", "g"], CultureInfo.InvariantCulture, out value);
    }

    private static string Lines(IEnumerable<string> values) => string.Join("\n", values);

    private static List<string> Split(string? text) =>
        [.. (text ?? "").Split(['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];

    private static string Normalize(string? text) => string.Join(" ", Split(text));

    /// <summary>The rules speak of configuration keys in lower case; on the form they start a sentence.</summary>
    private static string Sentence(string message) => message.Length == 0 ? message : char.ToUpperInvariant(message[0]) + message[1..];
}
