using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace AuthServer.Areas.Identity;

/// <summary>
/// Identity's user manager with account lockout on the server's <see cref="TimeProvider"/>: the stock one reads the
/// machine's clock when it locks an account after <c>MaxFailedAccessAttempts</c> wrong passwords and when it asks
/// whether the lockout has ended, so lockouts would ignore the clock everything else (tokens, codes, limits) runs on.
/// </summary>
public sealed class ServerClockUserManager(
    IUserStore<ApplicationUser> store, IOptions<IdentityOptions> optionsAccessor, IPasswordHasher<ApplicationUser> passwordHasher,
    IEnumerable<IUserValidator<ApplicationUser>> userValidators, IEnumerable<IPasswordValidator<ApplicationUser>> passwordValidators,
    ILookupNormalizer keyNormalizer, IdentityErrorDescriber errors, IServiceProvider services, ILogger<UserManager<ApplicationUser>> logger,
    TimeProvider clock)
    : UserManager<ApplicationUser>(store, optionsAccessor, passwordHasher, userValidators, passwordValidators, keyNormalizer, errors, services, logger)
{
    private IUserLockoutStore<ApplicationUser> LockoutStore =>
        Store as IUserLockoutStore<ApplicationUser> ?? throw new NotSupportedException("The user store does not support lockout.");

    public override async Task<bool> IsLockedOutAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!await LockoutStore.GetLockoutEnabledAsync(user, CancellationToken)) return false;
        return await LockoutStore.GetLockoutEndDateAsync(user, CancellationToken) is { } end && end >= clock.GetUtcNow();
    }

    /// <summary>One more failed sign-in; at the limit the account is locked until now + <c>DefaultLockoutTimeSpan</c>.</summary>
    public override async Task<IdentityResult> AccessFailedAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var failures = await LockoutStore.IncrementAccessFailedCountAsync(user, CancellationToken);
        if (failures >= Options.Lockout.MaxFailedAccessAttempts)
        {
            await LockoutStore.SetLockoutEndDateAsync(user, clock.GetUtcNow() + Options.Lockout.DefaultLockoutTimeSpan, CancellationToken);
            await LockoutStore.ResetAccessFailedCountAsync(user, CancellationToken);
        }
        return await UpdateUserAsync(user);
    }
}
