"""Forms for signing in and looking after one's own account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from portal.forms import strip_whitespace
from portal.security.passwords import MIN_LENGTH, password_problem


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter your email address"),
            Length(max=320, message="Enter a shorter email address"),
        ],
    )
    password = PasswordField("Password", widget=GovPasswordInput(), validators=[InputRequired("Enter your password")])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class TwoFactorForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter the code from your authenticator app, or a recovery code"),
            Length(max=20, message="Enter the 6-digit code from your authenticator app, or a recovery code"),
        ],
        description="The 6-digit code, or one of your recovery codes if you do not have your phone.",
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TwoFactorSetupForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter the 6-digit code from your authenticator app"),
            Length(max=10, message="Enter the 6-digit code from your authenticator app"),
        ],
    )
    submit = SubmitField("Turn on two-factor sign-in", widget=GovSubmitInput())


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False),
            Length(max=320, message="Enter a shorter email address"),
        ],
    )
    submit = SubmitField("Send reset link", widget=GovSubmitInput())


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a strong password.",
        validators=[
            InputRequired("Enter a new password"),
            Length(min=MIN_LENGTH, message=f"Password must be {MIN_LENGTH} characters or more"),
            Length(max=200, message="Password must be 200 characters or fewer"),
        ],
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Confirm your new password"), EqualTo("password", "Passwords must match")],
    )
    submit = SubmitField("Save password", widget=GovSubmitInput())


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        "Current password", widget=GovPasswordInput(), validators=[InputRequired("Enter your current password")]
    )


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change something."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


# Family members -------------------------------------------------------------------------------------
# Words a family member reads are kept short and plain (see portal/families/readability.py).


def _remember_field() -> BooleanField:
    return BooleanField(
        "Remember this device for 30 days",
        widget=GovCheckboxInput(),
        description="Only tick this on your own phone or computer.",
    )


class ChoosePasswordForm(FlaskForm):
    """The first step of an invitation; the person's email is set on the form so the password cannot hold it."""

    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        description=(
            f"Use at least {MIN_LENGTH} letters, numbers or symbols. Three or four words you will remember work well."
        ),
        validators=[
            InputRequired("Enter a password"),
            Length(max=200, message="Password must be 200 characters or fewer"),
        ],
    )
    confirm = PasswordField(
        "Type your password again",
        widget=GovPasswordInput(),
        validators=[InputRequired("Type your password again"), EqualTo("password", "The two passwords must match")],
    )
    submit = SubmitField("Save password", widget=GovSubmitInput())

    person_email: str | None = None

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", self.person_email)
        if problem:
            raise ValidationError(problem)


class InvitationCodeForm(FlaskForm):
    code = StringField(
        "Code from your letter",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="It has 10 letters and numbers, like ABCD-EFGH-JK.",
        validators=[
            InputRequired("Enter the code from your letter"),
            Length(max=40, message="Enter the code from your letter, like ABCD-EFGH-JK"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SignInCodeForm(FlaskForm):
    code = StringField(
        "Code",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter the code we sent you"),
            Length(max=20, message="Enter the 6-digit code we sent you"),
        ],
    )
    remember = _remember_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class FamilyTwoFactorForm(TwoFactorForm):
    """The authenticator step, for a family member, who may also ask us to remember the device."""

    remember = _remember_field()


class LetterInvitationForm(FlaskForm):
    """Which family member to write to, about which review: sent by the staff pages' Invite button."""

    person_id = HiddenField(validators=[InputRequired()])
    review_id = HiddenField(validators=[InputRequired()])

    def ids(self) -> tuple[int, int] | None:
        try:
            return int(self.person_id.data), int(self.review_id.data)
        except (TypeError, ValueError):
            return None
