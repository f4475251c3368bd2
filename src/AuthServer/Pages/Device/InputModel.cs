using System.ComponentModel.DataAnnotations;

namespace AuthServer.Pages.Device;

/// <summary>What the consent form posts back: the code the decision is about.</summary>
public sealed class InputModel
{
    [Required]
    public string UserCode { get; set; } = "";
}
