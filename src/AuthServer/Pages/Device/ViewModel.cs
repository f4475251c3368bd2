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

/// <summary>
/// Who is asking: everything the user needs to recognise (or refuse) the request (RFC 8628 §5.4). <see cref="Summary"/>
/// is the short "browser on system" phrase of the requester's user agent (<see cref="Phone.UserAgentSummary"/>).
/// </summary>
public sealed record ConsentViewModel(
    string UserCode,
    string ClientName,
    string? ClientLogoUri,
    string? DeviceName,
    string? UserAgent,
    string? IpAddress,
    string AskedAgo,
    DateTimeOffset AskedAt,
    string? Summary,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<int>? NumberChoices);
