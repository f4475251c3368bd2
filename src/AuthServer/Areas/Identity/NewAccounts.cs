using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace AuthServer.Areas.Identity;

/// <summary>An account created from a form (the sign-up page, the admin's new-user page).</summary>
public static class NewAccounts
{
    /// <summary>
    /// Creates <paramref name="user"/> under Identity's password and user-name rules. What Identity refuses is shown
    /// in Identity's own words at the form's <c>Input.Password</c> or <c>Input.Email</c> field, and nothing is created.
    /// </summary>
    public static async Task<bool> TryCreateAsync(UserManager<ApplicationUser> users, ApplicationUser user, string password, ModelStateDictionary form)
    {
        var created = await users.CreateAsync(user, password);
        foreach (var error in created.Errors)
            form.AddModelError(error.Code.Contains("Password", StringComparison.Ordinal) ? "Input.Password" : "Input.Email", error.Description);
        return created.Succeeded;
    }
}
