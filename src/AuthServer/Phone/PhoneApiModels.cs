using System.Text.Json.Serialization;

namespace AuthServer.Phone;

public sealed record ScanRequest(
    [property: JsonPropertyName("code")] string? Code);

public sealed record DecisionRequest(
    [property: JsonPropertyName("confirm_ticket")] string? ConfirmTicket,
    [property: JsonPropertyName("number")] int? Number);

public sealed record ClientSummary(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("logo_uri"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LogoUri = null);

/// <summary>Who is asking: shown on the phone before the user decides (RFC 8628 §5.4).</summary>
public sealed record Requester(
    [property: JsonPropertyName("device_name")] string? DeviceName,
    [property: JsonPropertyName("user_agent")] string? UserAgent,
    [property: JsonPropertyName("ip")] string? Ip,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("summary")] string? Summary);

public sealed record ScanResponse(
    [property: JsonPropertyName("scan_id")] string ScanId,
    [property: JsonPropertyName("confirm_ticket")] string ConfirmTicket,
    [property: JsonPropertyName("user_code")] string UserCode,
    [property: JsonPropertyName("client")] ClientSummary Client,
    [property: JsonPropertyName("requester")] Requester Requester,
    [property: JsonPropertyName("scopes")] IReadOnlyList<string> Scopes,
    [property: JsonPropertyName("scope_descriptions")] IReadOnlyList<string> ScopeDescriptions,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("number_choices"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? NumberChoices);

public sealed record LinkedDeviceView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("client")] ClientSummary Client,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("last_used_at")] DateTimeOffset LastUsedAt,
    [property: JsonPropertyName("ip")] string? Ip,
    [property: JsonPropertyName("current")] bool Current);
