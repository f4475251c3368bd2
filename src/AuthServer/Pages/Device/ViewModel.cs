namespace AuthServer.Pages.Device;

/// <summary>What the page shows.</summary>
public enum DevicePageState
{
    EnterCode,
    Consent,
    Approved,
    Denied,
    NotFound,
    Expired,
    Finished,
    ClaimedByAnotherAccount,
    WrongNumber,
    TooManyAttempts,
}

/// <summary>Who is asking: everything the user needs to recognise (or refuse) the request (RFC 8628 §5.4).</summary>
public sealed record ConsentViewModel(
    string UserCode,
    string ClientName,
    string? DeviceName,
    string? UserAgent,
    string? IpAddress,
    string AskedAgo,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<int>? NumberChoices);
